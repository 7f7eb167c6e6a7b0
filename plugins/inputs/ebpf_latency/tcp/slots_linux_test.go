package tcp

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// The workload of these tests: the client only writes, so only its end of
// a connection has RTT samples (the server's sends no data to be acked),
// one per write, each acknowledged before the next.

// max_peers admits peers, not ports: under by_port one peer on more
// listening ports than tcp_rtt has slots fills them all, and the samples of
// the ports that found none are lost, each counted in series_full.
// max_peers = 1 leaves the pool at seriesLimit's minimum, 64 slots.
func TestRTTSeriesFullByPort(t *testing.T) {
	testenv.RequirePrivileged(t)
	const slots, beyond = 64, 3
	l := testenv.NewVethLink(t)
	ports := serveReaders(t, l.B, slots+beyond)
	cfg := DefaultConfig()
	cfg.Hook, cfg.Ports, cfg.ByPort, cfg.MaxPeers = "sock_ops", ports, true, 1
	p := startProbe(t, NameRTT, cfg)
	require.EqualValues(t, slots, p.(*rttProbe).slots.hists.MaxEntries())

	want, lost := map[string]uint64{}, uint64(0)
	for i, port := range ports {
		n := writesAcked(t, dial(t, l.A, l.B4, port), 1+i%3)
		if i < slots { // first come, first served
			want[fmt.Sprintf("peer=%s,port=%d", l.B4, port)] = n
		} else {
			lost += n
		}
	}
	require.Equal(t, want, rttCounts(t, p), "a series for each of the first 64 ports, none for the rest")
	require.Equal(t, lost, p.Status().Counters["series_full"], "every sample of the ports beyond the pool")
	require.Zero(t, p.Status().Counters["peers_folded"])
}

// expire_idle_series frees a peer's max_peers place at once, but returns its
// series' slot (zeroed) only one gather later: newcomers admitted in
// between take their slots from the rest. tcp_rtt's pool holds twice the
// series max_peers admits, so even when every series expired at once and as
// many newcomers arrive in that window, none loses a sample.
func TestRTTNewcomersFindSlotsRightAfterExpiry(t *testing.T) {
	testenv.RequirePrivileged(t)
	const (
		expiry   = 300 * time.Millisecond
		maxPeers = 31
		series   = maxPeers + 1 // and "other"
	)
	l := testenv.NewVethLink(t)
	addrs := make([]netip.Addr, 2*series)
	for i := range addrs {
		addrs[i] = l.V4(byte(10 + i))
	}
	l.AddAddr(t, addrs...)
	port := serveReaders(t, l.B, 1)[0]
	cfg := DefaultConfig()
	cfg.Hook, cfg.Ports, cfg.MaxPeers = "sock_ops", []int{port}, maxPeers
	p := startProbe(t, NameRTT, cfg, func(p probe.Probe) { p.(idle.Expiring).ExpireIdleSeries(expiry) })
	require.EqualValues(t, 2*series, p.(*rttProbe).slots.hists.MaxEntries())

	// max_peers peers of their own, then one folded into "other".
	wave := func(peers []netip.Addr) map[string]uint64 {
		want := map[string]uint64{}
		for i, a := range peers {
			id := "peer=" + a.String()
			if i == maxPeers {
				id = "peer=" + OtherPeer
			}
			want[id] = writesAcked(t, dial(t, l.A, a, port), 1+i%3)
		}
		return want
	}
	require.Equal(t, wave(addrs[:series]), rttCounts(t, p))
	time.Sleep(expiry + 100*time.Millisecond)
	require.Empty(t, rttCounts(t, p), "idle for the expiry time: every series expired, every peer's place freed")

	// Before the next gather: the expired series' slots are still pending.
	require.Equal(t, wave(addrs[series:]), rttCounts(t, p), "every newcomer found a slot")
	require.Zero(t, p.Status().Counters["series_full"])
	require.EqualValues(t, 2, p.Status().Counters["peers_folded"], "one address of each wave")
}

// A config asking for more series than the kernel memory budget holds
// starts, and says once how many it got: past them, samples are lost.
func TestRTTBudgetCutIsLogged(t *testing.T) {
	testenv.RequirePrivileged(t)
	cfg := DefaultConfig()
	cfg.MaxPeers = MaxMaxPeers // (65536 + "other") * 2 series: above the budget on any host
	require.NoError(t, cfg.Validate())
	log := &testutil.CaptureLogger{}
	p := newRTTProbe(cfg, log).(*rttProbe)
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	testenv.RequireBudgetCut(t, log, "tcp_rtt", p.slots.hists, 131074, "series_full", "max_peers, peer_groups, by_port, by_interface, max_cgroups")
}

// serveReaders listens on n consecutive ports in ns, each connection read
// to its end without a byte sent back. The ports are below the ephemeral
// range, so no other connection on the host has one as its own (the
// `ports` filter matches either end): the slots are this test's alone.
func serveReaders(t *testing.T, ns *testenv.Netns, n int) []int {
	t.Helper()
	first := 20000 + rand.IntN(10000)
	ports := make([]int, n)
	for i := range ports {
		ports[i] = testenv.Serve(t, ns, "tcp", fmt.Sprintf("[::]:%d", first+i), func(c net.Conn) {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		})
	}
	return ports
}

// writesAcked writes n requests to c, each acknowledged before the next,
// and returns n: one RTT sample each on the sock_ops path.
func writesAcked(t *testing.T, c *net.TCPConn, n int) uint64 {
	t.Helper()
	buf := make([]byte, msgSize)
	for i := 0; i < n; i++ {
		_, err := c.Write(buf)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return tcpInfo(t, c).Unacked == 0 },
			10*time.Second, time.Millisecond, "write %d of %d unacknowledged", i+1, n)
	}
	return uint64(n)
}

// rttCounts gathers p and returns the sample count of each tcp_rtt series.
func rttCounts(t *testing.T, p probe.Probe) map[string]uint64 {
	t.Helper()
	return histCounts(gather(t, p), MeasurementRTT)
}
