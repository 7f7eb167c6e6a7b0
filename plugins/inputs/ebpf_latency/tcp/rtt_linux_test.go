package tcp

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// Through a line that holds every packet 10 ms each way, no RTT sample of
// the client's series is below 16.384 ms; a connection opened before Start
// is measured too. The count is exact: sock_ops samples once per round
// trip; the tcp_probe fallbacks once per segment the client received, as
// the client's own socket counts them (TCP_INFO segs_in, less the SYN-ACK,
// which arrives before the connection is established).
func TestRTTBucketAndOldConnections(t *testing.T) {
	testenv.RequirePrivileged(t)
	const oneWay = 10 * time.Millisecond
	for _, hook := range []string{"sock_ops", "tp_btf", "raw_tp", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			line := testenv.NewDelayLine(t, oneWay)
			port := serve(t, line.B)
			old := dial(t, line.A, line.B4, port)
			roundTrips(t, old, 2)

			cfg := DefaultConfig()
			cfg.Hook, cfg.Ports = hook, []int{port}
			p := startProbe(t, NameRTT, cfg)
			require.Equal(t, hook, p.Status().Hook)
			oldSegs := segsIn(t, old)
			if hook == "sock_ops" {
				// The client's and the server's end of the old connection.
				require.Equal(t, uint64(2), p.Status().Counters["sockets_armed"])
				require.Zero(t, p.Status().Counters["sockets_arm_failed"])
			}
			client := "peer=" + line.B4.String()

			roundTrips(t, old, 10)
			s := histSeries(gather(t, p), MeasurementRTT)[client]
			require.NotNil(t, s, "the old connection is measured")
			requireAtLeast(t, s, "0.016384")
			want := uint64(10) // one sample per round trip
			if hook != "sock_ops" {
				want = segsIn(t, old) - oldSegs
			}
			require.Equal(t, want, s.count, "the old connection's samples")

			fresh := dial(t, line.A, line.B4, port)
			roundTrips(t, fresh, 10)
			s = histSeries(gather(t, p), MeasurementRTT)[client]
			// sock_ops: the SYN-ACK's sample precedes the arming at establishment.
			want += 10
			if hook != "sock_ops" {
				want = segsIn(t, old) - oldSegs + segsIn(t, fresh) - 1
			}
			require.Equal(t, want, s.count, "the old and the new connection's samples")
			requireAtLeast(t, s, "0.016384")
		})
	}
}

// Both families, v4-mapped peers shown as IPv4, and the port and
// interface tags, through sock_ops and its fallback.
func TestRTTFamiliesPortAndInterface(t *testing.T) {
	testenv.RequirePrivileged(t)
	const trips = 5
	for _, hook := range []string{"sock_ops", "tp_btf"} {
		t.Run(hook, func(t *testing.T) {
			l := testenv.NewVethLink(t)
			port := serve(t, l.B)
			cfg := DefaultConfig()
			cfg.Hook, cfg.Ports, cfg.ByPort, cfg.ByInterface = hook, []int{port}, true, true
			p := startProbe(t, NameRTT, cfg).(*rttProbe)
			p.tags.ifaces = netnsIfaceNames(t, l.A)

			conns := map[string]*net.TCPConn{l.B4.String(): dial(t, l.A, l.B4, port), l.B6.String(): dial(t, l.A, l.B6, port)}
			for _, c := range conns {
				roundTrips(t, c, trips)
			}
			got := histSeries(gather(t, p), MeasurementRTT)
			for server, c := range conns {
				s := got[fmt.Sprintf("iface=%s,peer=%s,port=%d", l.IfA, server, port)]
				require.NotNil(t, s, "client series for %s in %v", server, got)
				want := uint64(trips) // sock_ops: one sample per round trip
				if hook != "sock_ops" {
					want = segsIn(t, c) - 1 // tcp_probe: each segment received once established
				}
				require.Equal(t, want, s.count, "client samples for %s", server)
			}
			// The server's ends: the IPv4 client reached a dual-stack
			// listener, so its socket holds a v4-mapped address.
			for _, client := range []string{l.A4.String(), l.A6.String()} {
				found := false
				for id := range got {
					found = found || strings.HasSuffix(id, fmt.Sprintf(",peer=%s,port=%d", client, port))
				}
				require.True(t, found, "server series for %s in %v", client, got)
			}
		})
	}
}

// Where sock_ops cannot attach, tcp_rtt falls back to tcp:tcp_probe and
// says so once.
func TestRTTFallbackIsLoggedOnce(t *testing.T) {
	testenv.RequirePrivileged(t)
	log := &testutil.CaptureLogger{}
	cfg := DefaultConfig()
	require.NoError(t, cfg.Validate())
	p := newRTTProbe(cfg, log).(*rttProbe)
	p.cgroup = filepath.Join(t.TempDir(), "no-cgroup-here")
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	require.Equal(t, "tp_btf", p.Status().Hook)
	var fellBack int
	for _, w := range log.Warnings() {
		if strings.Contains(w, "hook sock_ops unavailable, fell back") {
			fellBack++
		}
	}
	require.Equal(t, 1, fellBack, "warnings: %v", log.Warnings())
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	require.Empty(t, log.Errors())
}

// requireAtLeast: no sample at or below lower, the bound under the injected
// delay. Wall clock bounds only from below: a busy machine may add any
// delay, so above there is only the loose testenv.Ceiling.
func requireAtLeast(t *testing.T, s *series, lower string) {
	t.Helper()
	require.Positive(t, s.count)
	require.Zero(t, s.buckets[lower], "no sample at or below le=%s: %v", lower, s.buckets)
	require.Equal(t, s.count, s.buckets[testenv.Ceiling], "every sample at or below le=%s: %v", testenv.Ceiling, s.buckets)
}

// segsIn is the number of segments c's socket received (TCP_INFO).
func segsIn(t *testing.T, c *net.TCPConn) uint64 {
	t.Helper()
	return uint64(tcpInfo(t, c).Segs_in)
}
