package tcp

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// slowAndFast is a 10 ms delay line and a plain veth pair, each with an
// echo server, and this process's comm.
func slowAndFast(t *testing.T) (line *testenv.DelayLine, fast *testenv.Link, slowPort, fastPort int, comm string) {
	t.Helper()
	line, fast = testenv.NewDelayLine(t, 10*time.Millisecond), testenv.NewVethLink(t)
	raw, err := os.ReadFile("/proc/self/comm")
	require.NoError(t, err)
	return line, fast, serve(t, line.B), serve(t, fast.B), strings.TrimSpace(string(raw))
}

// Connects through a 10 ms delay line (a 20 ms handshake) are slower than a
// 15 ms threshold; connects over a plain veth pair are not. Exactly the
// delayed handshakes are events, naming this process, the peer and ports;
// every handshake is in the histogram too.
func TestSlowEventsAreExactlyTheSlowHandshakes(t *testing.T) {
	testenv.RequirePrivileged(t)
	const slowConns, fastConns = 4, 12
	line, fast, slowPort, fastPort, comm := slowAndFast(t)

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
				require.Equal(t, comm, f["comm"])
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

// Round trips through a 10 ms delay line (20 ms) are slower than a 15 ms
// threshold; those over a plain veth pair are not. Exactly the delayed
// round trips are events, on both ends, naming the peer; the client's end
// names this process, which called connect() (sock_ops only: the tcp_probe
// fallback runs in softirq and knows no caller); the server's end, an
// accepted socket, names none.
func TestRTTSlowEventsAreExactlyTheSlowRoundTrips(t *testing.T) {
	testenv.RequirePrivileged(t)
	const slowTrips, fastTrips = 8, 20
	line, fast, slowPort, fastPort, comm := slowAndFast(t)

	for _, hook := range []string{"sock_ops", "tp_btf"} {
		t.Run(hook, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hook, cfg.Ports, cfg.Threshold = hook, []int{slowPort, fastPort}, "15ms"
			p := startProbe(t, NameRTT, cfg)
			slow, quick := dial(t, line.A, line.B4, slowPort), dial(t, fast.A, fast.B4, fastPort)
			roundTrips(t, quick, fastTrips)
			// Closing acks the last response at once: left open, it would be
			// acked late (delayed ACK, 40 ms), a slow sample of the server.
			require.NoError(t, quick.Close())
			roundTrips(t, slow, slowTrips)
			// The server's last sample waits for the client's (delayed) ACK.
			time.Sleep(300 * time.Millisecond)
			acc := gather(t, p)

			client, server := line.B4.String(), line.A4.String()
			perPeer := map[string]uint64{}
			for _, e := range testenv.SlowEvents(acc) {
				require.Equal(t, map[string]string{"probe": NameRTT}, e.Tags())
				f := e.Fields()
				peer := f["peer"].(string)
				perPeer[peer]++
				require.GreaterOrEqual(t, f["seconds"], 0.016)
				switch {
				case peer == client && hook == "sock_ops":
					require.Equal(t, uint64(slowPort), f["peer_port"])
					require.Equal(t, uint64(os.Getpid()), f["pid"])
					require.Equal(t, comm, f["comm"])
				case peer == client:
					require.Equal(t, uint64(slowPort), f["peer_port"])
					require.Equal(t, uint64(0), f["pid"], "tcp_probe knows no caller")
				case peer == server:
					require.Equal(t, uint64(slowPort), f["local_port"])
					require.Equal(t, uint64(0), f["pid"], "an accepted socket has no connect() caller")
				default:
					t.Fatalf("slow event for peer %s: only the delay line is slow", peer)
				}
			}
			want := uint64(slowTrips) // sock_ops: one sample per round trip
			if hook != "sock_ops" {
				want = segsIn(t, slow) - 1 // tcp_probe: each segment received once established
			}
			require.Equal(t, want, perPeer[client], "one event per delayed sample of the client")
			series := histSeries(acc, MeasurementRTT)
			require.Equal(t, want, series["peer="+client].count, "events are in addition to the histogram")
			require.Positive(t, perPeer[server])
			require.Equal(t, series["peer="+server].count, perPeer[server], "every sample of the server's end is delayed")
			require.Positive(t, series["peer="+fast.B4.String()].count, "the fast round trips are measured")
			require.Zero(t, p.Status().Counters[slowevent.CounterDropped])
		})
	}
}

// Over slow_events_per_second, every slow round trip not sent is counted.
func TestRTTSlowEventsOverTheRateAreCounted(t *testing.T) {
	const slowTrips, perSecond = 15, 2
	line, port, p := rateLimitedOverDelayLine(t, NameRTT, perSecond)

	began := time.Now()
	roundTrips(t, dial(t, line.A, line.B4, port), slowTrips)
	time.Sleep(300 * time.Millisecond) // the server's last sample, as above
	elapsed := time.Since(began)
	acc := gather(t, p)

	var slow uint64 // every sample through the line is slow
	for _, s := range histSeries(acc, MeasurementRTT) {
		slow += s.count
	}
	require.GreaterOrEqual(t, slow, uint64(slowTrips))
	testenv.RequireRateLimited(t, acc, slow, p.Status().Counters[slowevent.CounterDropped], perSecond, elapsed)
}

// Over slow_events_per_second, every slow handshake not sent is counted;
// the histogram holds them all.
func TestConnectSlowEventsOverTheRateAreCounted(t *testing.T) {
	const slowConns, perSecond = 12, 2
	began := time.Now()
	line, port, p := rateLimitedOverDelayLine(t, NameConnect, perSecond)
	for i := 0; i < slowConns; i++ {
		dial(t, line.A, line.B4, port)
	}
	elapsed := time.Since(began)
	acc := gather(t, p)

	series := histSeries(acc, MeasurementConnect)
	require.Equal(t, uint64(slowConns), series["direction=active,peer="+line.B4.String()].count, "every handshake is in the histogram")
	testenv.RequireRateLimited(t, acc, slowConns, p.Status().Counters[slowevent.CounterDropped], perSecond, elapsed)
}

// rateLimitedOverDelayLine is probe name watching a server behind a 10 ms
// delay line (every handshake and round trip slow), events over 15 ms at
// perSecond.
func rateLimitedOverDelayLine(t *testing.T, name string, perSecond int) (*testenv.DelayLine, int, probe.Probe) {
	t.Helper()
	testenv.RequirePrivileged(t)
	line := testenv.NewDelayLine(t, 10*time.Millisecond)
	port := serve(t, line.B)
	cfg := DefaultConfig()
	cfg.Ports, cfg.Threshold, cfg.PerSecond = []int{port}, "15ms", perSecond
	return line, port, startProbe(t, name, cfg)
}
