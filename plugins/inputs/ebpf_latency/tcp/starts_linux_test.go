package tcp

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// useStartMap forces tcp_connect's LRU fallback, holding slots connects
// in flight (start_times = "lru" with a map tests can fill).
func useStartMap(slots uint32) func(probe.Probe) {
	return func(p probe.Probe) {
		c := p.(*connectProbe)
		c.noSocketStorage, c.startSlots = true, slots
	}
}

// Connects to a peer that never answers stay in SYN_SENT until closed.
// With start times in socket storage every one of them is timed however
// many are in flight; with the LRU fallback holding fewer than are in
// flight, the evicted ones end counted in active_untimed; where the socket
// may not charge its storage (optmem_max 0 in the client's namespace),
// every start is refused (inflight_full) and every end untimed. Each
// connect is a counted failure or untimed, never lost silently.
func TestConnectStartsInFlightAreAllAccountedFor(t *testing.T) {
	testenv.RequirePrivileged(t)
	const inFlight, slots = 200, 16
	for _, tc := range []struct {
		name    string
		lru     bool
		refused bool // optmem_max = 0: no socket storage can be charged
	}{
		{name: "socket storage"},
		{name: "LRU fallback", lru: true},
		{name: "socket storage refused", refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testenv.NewVethLink(t)
			silent := l.V4(99)
			// B drops frames for a MAC it does not own: the SYNs vanish.
			l.A.IP(t, "neigh", "add", silent.String(), "lladdr", "02:00:00:00:00:99", "dev", l.IfA, "nud", "permanent")
			if tc.refused {
				out, err := exec.Command("ip", "netns", "exec", l.A.Name, "sysctl", "-qw", "net.core.optmem_max=0").CombinedOutput()
				require.NoError(t, err, "%s", out)
			}
			const port = 7
			cfg := DefaultConfig()
			cfg.Ports = []int{port}
			var setup []func(probe.Probe)
			if tc.lru {
				setup = append(setup, useStartMap(slots))
			}
			p := startProbe(t, NameConnect, cfg, setup...).(*connectProbe)
			_, inSocket := p.att.Collection.Maps[tcpbpf.ConnectMapTcpStarts]
			_, inMap := p.att.Collection.Maps[tcpbpf.ConnectMapTcpSynSent]
			require.Equal(t, !tc.lru, inSocket, "socket storage map loaded")
			require.Equal(t, tc.lru, inMap, "LRU map loaded")

			fds := make([]int, 0, inFlight)
			l.A.Run(t, func() {
				for i := 0; i < inFlight; i++ {
					fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
					require.NoError(t, err)
					fds = append(fds, fd)
					err = unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: silent.As4()})
					require.ErrorIs(t, err, unix.EINPROGRESS)
				}
			})
			for _, fd := range fds { // SYN_SENT -> CLOSE: a failed connect
				require.NoError(t, unix.Close(fd))
			}

			failed := counterSeries(t, gather(t, p), MeasurementFailures, FieldFailed)["peer="+silent.String()]
			st := p.Status()
			// auto runs socket storage here, as the default case's
			// unevicted crowd shows; the forced fallback runs the LRU.
			runs := StartsSocketStorage
			if tc.lru {
				runs = StartsLRU
			}
			require.Equal(t, runs, st.StartTimes, "start_times that runs")
			untimed, refused := st.Counters["active_untimed"], st.Counters["inflight_full"]
			require.Equal(t, uint64(inFlight), failed+untimed, "every connect is a failure or counted untimed")
			switch {
			case tc.refused:
				require.Equal(t, uint64(inFlight), refused, "every start refused")
				require.Equal(t, uint64(inFlight), untimed)
			case tc.lru:
				require.Zero(t, refused)
				require.GreaterOrEqual(t, untimed, uint64(inFlight-slots), "at most %d starts fit", slots)
			default:
				require.Zero(t, refused)
				require.Zero(t, untimed, "nothing evicted from socket storage")
			}
		})
	}
}
