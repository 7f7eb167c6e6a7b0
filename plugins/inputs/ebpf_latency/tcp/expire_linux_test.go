package tcp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// A peer with no new sample for expire_idle_series stops being written and
// frees its max_peers slot: a newcomer beyond max_peers then gets a series
// of its own instead of folding into "other".
func TestIdlePeerExpiresAndFreesItsSlot(t *testing.T) {
	testenv.RequirePrivileged(t)
	const expiry = 300 * time.Millisecond
	l := testenv.NewVethLink(t)
	first, second := l.V4(10), l.V4(11)
	l.AddAddr(t, first, second)
	port := serve(t, l.B)
	cfg := DefaultConfig()
	cfg.Ports, cfg.MaxPeers = []int{port}, 2 // the server and the client's address fill it
	p := startProbe(t, NameConnect, cfg, func(p probe.Probe) { p.(idle.Expiring).ExpireIdleSeries(expiry) })

	roundTrips(t, dial(t, l.A, first, port), 1)
	active := func(a netip.Addr) string { return "direction=active,peer=" + a.String() }
	passive := "direction=passive,peer=" + l.A4.String()
	require.Equal(t, map[string]uint64{active(first): 1, passive: 1}, connectCounts(gather(t, p)))

	time.Sleep(expiry + 100*time.Millisecond)
	require.Empty(t, connectCounts(gather(t, p)), "idle for the expiry time: no longer written")

	roundTrips(t, dial(t, l.A, second, port), 1)
	require.Equal(t, map[string]uint64{active(second): 1, passive: 1}, connectCounts(gather(t, p)),
		"the newcomer took a freed slot; the client's series came back from zero")
	require.Zero(t, p.Status().Counters["peers_folded"])
}

func connectCounts(acc *testutil.Accumulator) map[string]uint64 {
	return histCounts(acc, MeasurementConnect)
}

// A socket keeps its series' slot (sock_ops); when the series expires, the
// slot is freed and reused, here by the next new series (free slots are a
// stack). The old connection's later samples must start a series of their
// own, exactly counted, and none may land in the slot's new series. Both
// ways of reading the slots: a lookup per slot in use, and the walk of
// them all (taken when most are in use).
func TestRTTExpiredSlotIsNotReusedByItsSocket(t *testing.T) {
	testenv.RequirePrivileged(t)
	for name, sparse := range map[string]float64{"lookups": 1, "walk": -1} {
		t.Run(name, func(t *testing.T) { testExpiredSlot(t, sparse) })
	}
}

func testExpiredSlot(t *testing.T, sparse float64) {
	const expiry = 300 * time.Millisecond
	l := testenv.NewVethLink(t)
	second := l.V4(11)
	l.AddAddr(t, second)
	port := serve(t, l.B)
	cfg := DefaultConfig()
	cfg.Hook, cfg.Ports = "sock_ops", []int{port}
	p := startProbe(t, NameRTT, cfg, func(p probe.Probe) { p.(idle.Expiring).ExpireIdleSeries(expiry) })
	p.(*rttProbe).slots.sparse = sparse
	client := func(a netip.Addr) string { return "peer=" + a.String() }
	clientCounts := func() map[string]uint64 {
		out := map[string]uint64{}
		for id, s := range histSeries(gather(t, p), MeasurementRTT) {
			if id != client(l.A4) { // the server's end: not counted here
				out[id] = s.count
			}
		}
		return out
	}

	old := dial(t, l.A, l.B4, port)
	roundTrips(t, old, 5)
	require.Equal(t, map[string]uint64{client(l.B4): 5}, clientCounts())
	time.Sleep(expiry + 100*time.Millisecond)
	require.Empty(t, clientCounts(), "idle for the expiry time: expired, its slot freed")
	require.Empty(t, clientCounts(), "the freed slots are back in the kernel's free stack")

	roundTrips(t, dial(t, l.A, second, port), 7) // takes a freed slot
	roundTrips(t, old, 3)
	require.Equal(t, map[string]uint64{client(second): 7, client(l.B4): 3}, clientCounts(),
		"the old connection's series came back from zero; nothing of it in the slot's new series")
	require.Zero(t, p.Status().Counters["series_full"])
}
