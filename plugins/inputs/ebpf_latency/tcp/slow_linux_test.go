package tcp

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// Connects through a 10 ms delay line (a 20 ms handshake) are slower than a
// 15 ms threshold; connects over a plain veth pair are not. Exactly the
// delayed handshakes are events, naming this process, the peer and ports;
// every handshake is in the histogram too.
func TestSlowEventsAreExactlyTheSlowHandshakes(t *testing.T) {
	testenv.RequirePrivileged(t)
	const slowConns, fastConns = 4, 12
	line := testenv.NewDelayLine(t, 10*time.Millisecond)
	fast := testenv.NewVethLink(t)
	slowPort, fastPort := serve(t, line.B), serve(t, fast.B)
	comm, err := os.ReadFile("/proc/self/comm")
	require.NoError(t, err)

	for _, hook := range []string{"tp_btf", "raw_tp", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hook, cfg.Ports, cfg.Threshold = hook, []int{slowPort, fastPort}, "15ms"
			p := startProbe(t, NameConnect, cfg)

			localPorts := map[uint64]bool{}
			for i := 0; i < fastConns; i++ {
				roundTrips(t, dial(t, fast.A, fast.B4, fastPort), 1)
			}
			for i := 0; i < slowConns; i++ {
				c := dial(t, line.A, line.B4, slowPort)
				localPorts[uint64(c.LocalAddr().(*net.TCPAddr).Port)] = true
			}
			acc := gather(t, p)

			events := testenv.SlowEvents(acc)
			require.Len(t, events, slowConns, "one event per delayed handshake, none for the fast ones")
			for _, e := range events {
				require.Equal(t, map[string]string{"probe": NameConnect, "direction": "active"}, e.Tags())
				f := e.Fields()
				require.Equal(t, uint64(os.Getpid()), f["pid"])
				require.Equal(t, strings.TrimSpace(string(comm)), f["comm"])
				require.Equal(t, line.B4.String(), f["peer"])
				require.Equal(t, uint64(slowPort), f["peer_port"])
				require.True(t, localPorts[f["local_port"].(uint64)], "local port %v is one of this test's", f["local_port"])
				require.GreaterOrEqual(t, f["seconds"], 0.020)
			}
			series := histSeries(acc, MeasurementConnect)
			require.Equal(t, uint64(slowConns), series["direction=active,peer="+line.B4.String()].count, "events are in addition to the histogram")
			require.Equal(t, uint64(fastConns), series["direction=active,peer="+fast.B4.String()].count)
			require.Zero(t, p.Status().Counters[slowevent.CounterDropped])
		})
	}
}
