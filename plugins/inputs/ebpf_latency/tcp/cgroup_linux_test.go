package tcp

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// inCgroup runs fn with this whole process moved into cg, then moves it
// back: the sockets fn creates belong to cg (a socket keeps its creator's
// cgroup, an accepted one its listener's), and the connects it starts are
// made from cg.
func inCgroup(t *testing.T, cg *testenv.Cgroup, fn func()) {
	t.Helper()
	home := ownCgroupDir(t)
	move := func(dir string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	}
	move(cg.Dir)
	defer move(home)
	fn()
}

// ownCgroupDir is this process's cgroup v2 directory on the mount.
func ownCgroupDir(t *testing.T) string {
	t.Helper()
	root, err := kernel.Cgroup2Mount()
	require.NoError(t, err)
	f, err := os.Open("/proc/self/cgroup")
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if path, ok := strings.CutPrefix(s.Text(), "0::"); ok {
			return filepath.Join(root, path)
		}
	}
	t.Fatal("no cgroup v2 line in /proc/self/cgroup")
	return ""
}

// withCgroupTag is a series id of histSeries or counterSeries with the
// cgroup tag added.
func withCgroupTag(cg, id string) string {
	return tagString(tagMap("cgroup=" + cg + "," + id))
}

func tagMap(id string) map[string]string {
	tags := map[string]string{}
	for _, kv := range strings.Split(id, ",") {
		k, v, _ := strings.Cut(kv, "=")
		tags[k] = v
	}
	return tags
}

// Connects, failed connects, round trips and retransmissions made from
// two cgroups land under each one's tag, exactly; the server's ends under
// the cgroup of its listener. The client's sockets are charged at connect
// (tcp_connect: the caller's cgroup) and through the socket's own cgroup
// (tcp_rtt, tcp_retransmits, and tcp_connect's passive side), through the
// default hooks and the fallbacks.
func TestByCgroupExactPerCgroup(t *testing.T) {
	testenv.RequirePrivileged(t)
	const trips, size = 4, 256 << 10
	perCgroup := map[int]struct{ conns, fails int }{0: {3, 2}, 1: {2, 1}}
	for _, tc := range []struct {
		name                 string
		connect, rtt, retran string
	}{
		{"default hooks", "tp_btf", "sock_ops", "tp_btf"},
		{"fallback hooks", "raw_tp", "tracepoint", "tracepoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := testenv.NewDelayLine(t, 0)
			srv := testenv.NewCgroup(t)
			clients := []*testenv.Cgroup{testenv.NewCgroup(t), testenv.NewCgroup(t)}
			var port int
			inCgroup(t, srv, func() { port = serve(t, line.B) })
			closed := port + 1
			if closed > 65535 {
				closed = port - 1
			}
			start := func(name, hook string) probe.Probe {
				cfg := DefaultConfig()
				cfg.Hook, cfg.Ports, cfg.ByCgroup = hook, []int{port, closed}, true
				return startProbe(t, name, cfg)
			}
			connect, rtt, retrans := start(NameConnect, tc.connect), start(NameRTT, tc.rtt), start(NameRetransmits, tc.retran)

			server, client := line.B4.String(), line.A4.String()
			wantConnects, wantFailed, wantRTT := map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
			passive := 0
			for i, cg := range clients {
				n := perCgroup[i]
				var conns []*net.TCPConn
				inCgroup(t, cg, func() {
					for j := 0; j < n.conns; j++ {
						conns = append(conns, dial(t, line.A, line.B4, port))
					}
					for j := 0; j < n.fails; j++ {
						refused(t, line.A, line.B4, closed)
					}
				})
				var samples uint64
				for _, c := range conns {
					roundTrips(t, c, trips)
					samples += trips // sock_ops: one per round trip
					if tc.rtt != "sock_ops" {
						samples += segsIn(t, c) - 1 - trips // tcp_probe: one per segment received, less the SYN-ACK
					}
				}
				wantConnects[withCgroupTag(cg.Path, "direction=active,peer="+server)] = uint64(n.conns)
				wantFailed[withCgroupTag(cg.Path, "peer="+server)] = uint64(n.fails)
				wantRTT[withCgroupTag(cg.Path, "peer="+server)] = samples
				passive += n.conns
			}
			wantConnects[withCgroupTag(srv.Path, "direction=passive,peer="+client)] = uint64(passive)

			acc := gather(t, connect)
			require.Equal(t, wantConnects, connectCounts(acc), "connects per cgroup")
			require.Equal(t, wantFailed, counterSeries(t, acc, MeasurementFailures, FieldFailed), "failed connects per cgroup")

			rttSeries := histSeries(gather(t, rtt), MeasurementRTT)
			for id, want := range wantRTT {
				require.Contains(t, rttSeries, id)
				require.Equal(t, want, rttSeries[id].count, "round trips of %s", id)
			}
			require.Len(t, rttSeries, len(wantRTT)+1, "the clients' series and the server's ends: %v", rttSeries)
			require.Contains(t, rttSeries, withCgroupTag(srv.Path, "peer="+client), "the server's ends, under its listener's cgroup")

			wantRetrans := map[string]uint64{}
			for _, cg := range clients {
				var c *net.TCPConn
				inCgroup(t, cg, func() { c = dial(t, line.A, line.B4, port) })
				line.DropAToB(5)
				upload(t, c, size)
				n := totalRetrans(t, c)
				require.Positive(t, n, "lost packets are retransmitted")
				wantRetrans[withCgroupTag(cg.Path, "peer="+server)] = uint64(n)
			}
			require.Equal(t, wantRetrans, counterSeries(t, gather(t, retrans), MeasurementRetransmits, FieldSegments))
			for _, p := range []probe.Probe{connect, rtt, retrans} {
				require.Zero(t, p.Status().Counters["cgroup_folded"])
			}
		})
	}
}

// cgroupedServer is a veth link with an echo server on B whose listener
// belongs to a cgroup of its own, and a tcp_connect probe on its port
// with by_cgroup and set.
func cgroupedServer(t *testing.T, set func(*Config)) (l *testenv.Link, srv *testenv.Cgroup, port int, p probe.Probe) {
	t.Helper()
	l, srv = testenv.NewVethLink(t), testenv.NewCgroup(t)
	inCgroup(t, srv, func() { port = serve(t, l.B) })
	cfg := DefaultConfig()
	cfg.Ports, cfg.ByCgroup = []int{port}, true
	set(cfg)
	return l, srv, port, startProbe(t, NameConnect, cfg)
}

// connectFrom makes n connections from cg to the server, one round trip each.
func connectFrom(t *testing.T, cg *testenv.Cgroup, l *testenv.Link, port, n int) {
	t.Helper()
	inCgroup(t, cg, func() {
		for i := 0; i < n; i++ {
			roundTrips(t, dial(t, l.A, l.B4, port), 1)
		}
	})
}

// Past max_cgroups, later cgroups fold into cgroup="other", exactly, and
// every folded sample is counted.
func TestByCgroupFoldsPastMaxCgroups(t *testing.T) {
	testenv.RequirePrivileged(t)
	const first, later = 3, 2
	a, b := testenv.NewCgroup(t), testenv.NewCgroup(t)
	l, _, port, p := cgroupedServer(t, func(cfg *Config) { cfg.MaxCgroups = 1 })

	// a's first handshake ends on the client before the server's end: a
	// takes the one slot; the server's listener and b fold.
	connectFrom(t, a, l, port, first)
	connectFrom(t, b, l, port, later)
	got := connectCounts(gather(t, p))
	require.Equal(t, map[string]uint64{
		withCgroupTag(a.Path, "direction=active,peer="+l.B4.String()):         first,
		withCgroupTag(cgroup.Folded, "direction=active,peer="+l.B4.String()):  later,
		withCgroupTag(cgroup.Folded, "direction=passive,peer="+l.A4.String()): first + later,
	}, got)
	require.Equal(t, uint64(later+first+later), p.Status().Counters["cgroup_folded"], "every folded sample")
}

// With `cgroups`, operations of the other cgroups are not measured, and
// counted.
func TestByCgroupFilterExcludesAndCounts(t *testing.T) {
	testenv.RequirePrivileged(t)
	const kept, excluded = 3, 2
	a, b := testenv.NewCgroup(t), testenv.NewCgroup(t)
	l, _, port, p := cgroupedServer(t, func(cfg *Config) { cfg.Cgroups = []string{a.Path} })

	connectFrom(t, a, l, port, kept)
	connectFrom(t, b, l, port, excluded)
	got := connectCounts(gather(t, p))
	require.Equal(t, map[string]uint64{withCgroupTag(a.Path, "direction=active,peer="+l.B4.String()): kept}, got)
	// b's handshakes, and every server end (its listener's cgroup is srv).
	require.Equal(t, uint64(excluded+kept+excluded), p.Status().Counters["cgroup_excluded"])
}
