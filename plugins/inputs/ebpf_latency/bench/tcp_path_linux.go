package bench

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	benchbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/bench"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/tcp"
)

// Variant names of the TCP paths.
const (
	TCPBaseline        = "baseline: no programs"
	TCPFloorSockOps    = "floor: sock_ops on the cgroup v2 root, RTT callbacks armed"
	TCPFloorProbe      = "floor: tp_btf tcp_probe"
	TCPRTTDefault      = "tcp_rtt: default (sock_ops)"
	TCPRTTProbe        = `tcp_rtt: hook = "tp_btf" (tcp_probe)`
	TCPRTTByCgroup     = "tcp_rtt: by_cgroup = true (sock_ops)"
	TCPRTTSlow         = `tcp_rtt: slow_threshold = "1s" (sock_ops; events on, none sent)`
	TCPRTTUncached     = "tcp_rtt: every sample looked up by its series key, as before sockets kept their series' slot (sock_ops)"
	TCPFloorSetState   = "floor: tp_btf inet_sock_set_state"
	TCPConnectDefault  = "tcp_connect: default (tp_btf, start times in socket storage)"
	TCPConnectStartMap = `tcp_connect: start_times = "lru" (tp_btf; the fallback before Linux 5.11)`
	TCPConnectByCgroup = "tcp_connect: by_cgroup = true"
	TCPConnectSlow     = `tcp_connect: slow_threshold = "1s" (events on, none sent)`
	TCPConnectBpftrace = "bpftrace connect latency (inet_sock_set_state tracepoint)"
	tcpMsgSize         = 64
	// tcpWarmTrips takes a new connection past TCP's quick-ack start, so
	// measured round trips are the steady request/response exchange.
	tcpWarmTrips = 16
)

// Both TCP paths divide by the workload's events: a round trip calls the
// hook on both ends (sock_ops RTT callback, or tcp_probe per received
// segment), a connection changes state about ten times.
var (
	TCPRoundTripPath = Path{
		Name: "tcp_rtt",
		Event: "one 64-byte request/response round trip on an established TCP connection, veth between two " +
			"network namespaces, both ends watched; in-kernel ns per round trip",
		Scale:            1,
		PerWorkloadEvent: true,
		Setup:            setupTCPRoundTrips,
		Targets: func(rows []*Row) []Target {
			return probeTargets(rows, TCPRTTDefault, TCPFloorSockOps, "", limitVsFloor)
		},
	}
	TCPConnectPath = Path{
		Name: "tcp_connect",
		Event: "one TCP connection (connect, one 64-byte round trip, close), veth between two network " +
			"namespaces, both ends watched; in-kernel ns per connection",
		Scale:            1,
		PerWorkloadEvent: true,
		Setup:            setupTCPConnects,
		Alternative:      TCPConnectBpftrace,
		Targets: func(rows []*Row) []Target {
			return probeTargets(rows, TCPConnectDefault, TCPFloorSetState, TCPConnectBpftrace, limitVsFloor)
		},
	}
)

// bpftraceConnect is tcpconnlat on the state tracepoint, what a user would
// write where kprobes are missing: SYN_SENT (2) keeps a start per socket,
// leaving SYN_SENT makes the histogram. One program, like our probe.
const bpftraceConnect = `
tracepoint:sock:inet_sock_set_state
{
	if (args->protocol == 6 && args->newstate == 2) {
		@start[args->skaddr] = nsecs;
	} else if (args->oldstate == 2) {
		$s = @start[args->skaddr];
		if ($s) {
			@usecs = hist((nsecs - $s) / 1000);
			delete(@start[args->skaddr]);
		}
	}
}
END { clear(@start); }
`

// tcpEnv is a veth link with an echo server on B; clients dial from A.
// Nothing leaves the two namespaces.
type tcpEnv struct {
	link *testenv.Link
	addr string // server address as B4:port
}

func newTCPEnv(t testing.TB) *tcpEnv {
	l := testenv.NewVethLink(t)
	port := testenv.Serve(t, l.B, "tcp4", net.JoinHostPort(l.B4.String(), "0"), echoTCP)
	return &tcpEnv{link: l, addr: net.JoinHostPort(l.B4.String(), strconv.Itoa(port))}
}

// echoTCP answers each tcpMsgSize request with as many bytes until EOF,
// then closes: the client closes first.
func echoTCP(c net.Conn) {
	defer c.Close()
	buf := make([]byte, tcpMsgSize)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

func roundTrip(c net.Conn, buf []byte) error {
	if _, err := c.Write(buf); err != nil {
		return err
	}
	_, err := io.ReadFull(c, buf)
	return err
}

// dialA dials the server from a thread in A (the socket stays in A).
func (e *tcpEnv) dialA(t testing.TB) net.Conn {
	t.Helper()
	var (
		c   net.Conn
		err error
	)
	// No keepalive probes on the idle connections Warm leaves behind.
	d := net.Dialer{KeepAlive: -1}
	e.link.A.Run(t, func() { c, err = d.Dial("tcp4", e.addr) })
	if err != nil {
		t.Fatalf("dialing %s: %v", e.addr, err)
	}
	return c
}

// tcpRoundTrips runs round trips on one connection, made anew by Warm
// under each variant: a sock_ops program asks for RTT callbacks when a
// connection is established, so one made under another variant (or none)
// would be watched differently. Earlier connections stay open, idle, until
// the path ends: closing one would ack its FIN, an RTT sample on the
// client's end that could land in the measured run.
type tcpRoundTrips struct {
	env  *tcpEnv
	conn net.Conn
	old  []net.Conn
}

func (w *tcpRoundTrips) Warm(t testing.TB) {
	if w.conn != nil {
		w.old = append(w.old, w.conn)
	}
	w.conn = w.env.dialA(t)
	buf := make([]byte, tcpMsgSize)
	for i := 0; i < tcpWarmTrips; i++ {
		if err := roundTrip(w.conn, buf); err != nil {
			t.Fatalf("tcp round trip: %v", err)
		}
	}
}

func (w *tcpRoundTrips) Run(t testing.TB, n int) Result {
	t.Helper()
	buf := make([]byte, tcpMsgSize)
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := roundTrip(w.conn, buf); err != nil {
			t.Fatalf("tcp round trip %d: %v", i, err)
		}
	}
	return Result{Ops: uint64(n), WallNs: float64(time.Since(start).Nanoseconds()) / float64(n)}
}

func setupTCPRoundTrips(t testing.TB) (Workload, []Variant) {
	w := &tcpRoundTrips{env: newTCPEnv(t)}
	t.Cleanup(func() {
		for _, c := range append(w.old, w.conn) {
			if c != nil {
				c.Close()
			}
		}
	})
	server := w.env.link.B4.String()
	rtt := func(hook string, records uint64, byCgroup bool, slow string, uncached ...bool) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) {
			cfg := tcp.DefaultConfig()
			cfg.Hook, cfg.ByCgroup, cfg.Threshold = hook, byCgroup, slow
			cfg.UncachedSeries = len(uncached) > 0 && uncached[0]
			var recorded func(probe.Probe) (uint64, error)
			if records > 0 {
				// The client's end: exactly one RTT callback per round trip
				// (the response acks the request).
				recorded = func(p probe.Probe) (uint64, error) {
					return samplesWith(p, tcp.MeasurementRTT, map[string]string{"peer": server})
				}
			}
			return startRegistered(t, tcp.NameRTT, cfg, "tcp_rtt", "tcp_rtt", recorded)
		}
	}
	return w, []Variant{
		{Name: TCPBaseline, Role: Baseline, Start: func(t testing.TB) (*Running, error) { return newRunning(t, nil), nil }},
		{Name: TCPFloorSockOps, Role: Floor, Start: startSockOpsFloor},
		{Name: TCPFloorProbe, Role: Floor, Start: func(t testing.TB) (*Running, error) {
			return startFloor(t, tcpFloors, hooks.TPBTF, "tcp_probe")
		}},
		{Name: TCPRTTDefault, Role: Probe, Records: 1, Floor: TCPFloorSockOps, Start: rtt("sock_ops", 1, false, "")},
		{Name: TCPRTTByCgroup, Role: Probe, Records: 1, Floor: TCPFloorSockOps, Start: rtt("sock_ops", 1, true, "")},
		{Name: TCPRTTSlow, Role: Probe, Records: 1, Floor: TCPFloorSockOps, Start: rtt("sock_ops", 1, false, "1s")},
		{Name: TCPRTTUncached, Role: Probe, Records: 1, Floor: TCPFloorSockOps, Start: rtt("sock_ops", 1, false, "", true)},
		// tcp_probe records the smoothed RTT at every received segment, and
		// quick-ack phases add segments: its count is not exact, so it is
		// not checked (Records 0, nothing read).
		{Name: TCPRTTProbe, Role: Probe, Records: 0, Floor: TCPFloorProbe, Start: rtt("tp_btf", 0, false, "")},
	}
}

// startSockOpsFloor attaches the sock_ops floor where tcp_rtt attaches.
func startSockOpsFloor(t testing.TB) (*Running, error) {
	cg, err := kernel.Cgroup2Mount()
	if err != nil {
		return nil, err
	}
	spec, err := benchbpf.LoadBench()
	if err != nil {
		return nil, fmt.Errorf("reading the embedded bench object: %w", err)
	}
	att, err := hooks.Attach(spec, []hooks.Flavour{{Kind: hooks.SockOps, Hooks: []hooks.Hook{
		{Program: benchbpf.BenchProgFloorSockops, Event: "cgroup " + cg, Cgroup: cg},
	}}}, hooks.Options{})
	if err != nil {
		return nil, err
	}
	run := newRunning(t, att.Close)
	p := att.Programs()[benchbpf.BenchProgFloorSockops]
	run.Programs, run.Events = []*ebpf.Program{p}, []*ebpf.Program{p}
	return run, nil
}

// tcpConnects opens, uses and closes one connection per event.
type tcpConnects struct{ env *tcpEnv }

func (w *tcpConnects) Warm(t testing.TB) { w.Run(t, 4) }

func (w *tcpConnects) Run(t testing.TB, n int) Result {
	t.Helper()
	var (
		err     error
		elapsed time.Duration
	)
	// Dial from one thread inside A for the whole run.
	w.env.link.A.Run(t, func() {
		buf := make([]byte, tcpMsgSize)
		start := time.Now()
		for i := 0; i < n && err == nil; i++ {
			var c net.Conn
			if c, err = net.Dial("tcp4", w.env.addr); err != nil {
				break
			}
			err = roundTrip(c, buf)
			c.Close()
		}
		elapsed = time.Since(start)
	})
	if err != nil {
		t.Fatalf("tcp connection: %v", err)
	}
	return Result{Ops: uint64(n), WallNs: float64(elapsed.Nanoseconds()) / float64(n)}
}

func setupTCPConnects(t testing.TB) (Workload, []Variant) {
	env := newTCPEnv(t)
	// The client closes first, so its sockets would sit in TIME_WAIT for
	// 60 s and a full run's 100,000s of connections would exhaust A's
	// ephemeral ports. Without TIME_WAIT buckets the socket still passes
	// FIN_WAIT2 -> CLOSE (tcp_done), so the hooks see the same states.
	if out, err := exec.Command("ip", "netns", "exec", env.link.A.Name,
		"sysctl", "-qw", "net.ipv4.tcp_max_tw_buckets=0").CombinedOutput(); err != nil {
		t.Fatalf("sysctl in %s: %v: %s", env.link.A.Name, err, out)
	}
	w := &tcpConnects{env: env}
	server := env.link.B4.String()
	connect := func(cfg *tcp.Config) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) {
			return startRegistered(t, tcp.NameConnect, cfg, "tcp_connect", "tcp_connect",
				func(p probe.Probe) (uint64, error) {
					return samplesWith(p, tcp.MeasurementConnect, map[string]string{"direction": "active", "peer": server})
				})
		}
	}
	byCgroup, lru, slow := tcp.DefaultConfig(), tcp.DefaultConfig(), tcp.DefaultConfig()
	byCgroup.ByCgroup, lru.StartTimes, slow.Threshold = true, tcp.StartsLRU, "1s"
	return w, []Variant{
		{Name: TCPBaseline, Role: Baseline, Start: func(t testing.TB) (*Running, error) { return newRunning(t, nil), nil }},
		{Name: TCPFloorSetState, Role: Floor, Start: func(t testing.TB) (*Running, error) {
			return startFloor(t, tcpFloors, hooks.TPBTF, "inet_sock_set_state")
		}},
		// The client's SYN_SENT -> ESTABLISHED is recorded before connect
		// returns: exactly one active sample per connection.
		{Name: TCPConnectDefault, Role: Probe, Records: 1, Floor: TCPFloorSetState, Start: connect(tcp.DefaultConfig())},
		{Name: TCPConnectStartMap, Role: Probe, Records: 1, Floor: TCPFloorSetState, Start: connect(lru)},
		{Name: TCPConnectByCgroup, Role: Probe, Records: 1, Floor: TCPFloorSetState, Start: connect(byCgroup)},
		{Name: TCPConnectSlow, Role: Probe, Records: 1, Floor: TCPFloorSetState, Start: connect(slow)},
		{Name: TCPConnectBpftrace, Role: Alternative, Start: func(t testing.TB) (*Running, error) {
			return startBpftrace(t, bpftraceConnect, []string{"inet_sock_set_s"}, "inet_sock_set_s")
		}},
	}
}
