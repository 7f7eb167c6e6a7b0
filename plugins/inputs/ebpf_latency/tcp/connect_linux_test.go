package tcp

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// Every connection made is counted once on each side, through every hook,
// over IPv4 and IPv6; every refused connect is counted as failed.
func TestConnectExactCounts(t *testing.T) {
	testenv.RequirePrivileged(t)
	const conns, fails = 7, 3
	for _, tc := range []struct {
		name, hook, starts string
		runs               string // start_times in Status: auto's LRU where no socket storage program exists
	}{
		{"tp_btf", "tp_btf", StartsSocketStorage, StartsSocketStorage},
		{"tp_btf LRU", "tp_btf", StartsLRU, StartsLRU},
		{"raw_tp", "raw_tp", StartsAuto, StartsLRU},
		{"tracepoint", "tracepoint", StartsAuto, StartsLRU},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testenv.NewVethLink(t)
			port := serve(t, l.B)
			closed := port + 1
			if closed > 65535 {
				closed = port - 1
			}
			cfg := DefaultConfig()
			cfg.Hook, cfg.Ports, cfg.StartTimes = tc.hook, []int{port, closed}, tc.starts
			p := startProbe(t, NameConnect, cfg)
			require.Equal(t, tc.hook, p.Status().Hook)
			require.Equal(t, tc.runs, p.Status().StartTimes)
			_, inSocket := p.(*connectProbe).att.Collection.Maps[tcpbpf.ConnectMapTcpStarts]
			require.Equal(t, tc.starts == StartsSocketStorage, inSocket, "start times in socket storage")

			for _, server := range []netip.Addr{l.B4, l.B6} {
				for i := 0; i < conns; i++ {
					roundTrips(t, dial(t, l.A, server, port), 1)
				}
				for i := 0; i < fails; i++ {
					refused(t, l.A, server, closed)
				}
			}
			acc := gather(t, p)
			counts, infs := map[string]uint64{}, map[string]uint64{}
			for id, s := range histSeries(acc, MeasurementConnect) {
				counts[id], infs[id] = s.count, s.buckets["+Inf"]
			}
			opened := map[string]uint64{ // the connections this test opened
				"direction=active,peer=" + l.B4.String():  conns,
				"direction=active,peer=" + l.B6.String():  conns,
				"direction=passive,peer=" + l.A4.String(): conns, // v4-mapped on the server, shown as IPv4
				"direction=passive,peer=" + l.A6.String(): conns,
			}
			require.Equal(t, opened, counts, "seconds_count")
			require.Equal(t, opened, infs, "+Inf bucket")
			require.Equal(t, map[string]uint64{
				"peer=" + l.B4.String(): fails,
				"peer=" + l.B6.String(): fails,
			}, counterSeries(t, acc, MeasurementFailures, FieldFailed))
			require.Zero(t, p.Status().Counters["passive_untimed"])
			require.Zero(t, p.Status().Counters["active_untimed"])
		})
	}
}

// Peers inside a group are reported as the group, the longest prefix
// winning, for IPv4 and IPv6 alike.
func TestPeerGroupsLongestPrefixWins(t *testing.T) {
	testenv.RequirePrivileged(t)
	l := testenv.NewVethLink(t)
	narrow4, wide4, narrow6, wide6 := l.V4(10), l.V4(11), l.V6(10), l.V6(11)
	l.AddAddr(t, narrow4, wide4, narrow6, wide6)
	port := serve(t, l.B)
	cfg := DefaultConfig()
	cfg.Ports = []int{port}
	cfg.PeerGroups = []PeerGroup{
		{Name: "wide", CIDRs: []string{l.Subnet4(), l.Subnet6()}},
		{Name: "narrow", CIDRs: []string{narrow4.String() + "/32", narrow6.String() + "/128"}},
	}
	p := startProbe(t, NameConnect, cfg)

	for addr, n := range map[netip.Addr]int{narrow4: 2, wide4: 3, narrow6: 1, wide6: 4} {
		for i := 0; i < n; i++ {
			roundTrips(t, dial(t, l.A, addr, port), 1)
		}
	}
	got := map[string]uint64{}
	for id, s := range histSeries(gather(t, p), MeasurementConnect) {
		got[id] = s.count
	}
	require.Equal(t, map[string]uint64{
		"direction=active,peer=narrow": 2 + 1,
		"direction=active,peer=wide":   3 + 4,
		"direction=passive,peer=wide":  10, // the client's .1 and ::1 are in the wide prefixes
	}, got)
	require.Zero(t, p.Status().Counters["peers_folded"])
}

// Past max_peers, new addresses fold into peer "other", each counted once.
func TestMaxPeersFoldsIntoOther(t *testing.T) {
	testenv.RequirePrivileged(t)
	l := testenv.NewVethLink(t)
	servers := []netip.Addr{l.V4(10), l.V4(11), l.V4(12), l.V6(13)}
	l.AddAddr(t, servers...)
	port := serve(t, l.B)
	cfg := DefaultConfig()
	cfg.Ports, cfg.MaxPeers = []int{port}, 2
	p := startProbe(t, NameConnect, cfg)

	for _, s := range servers {
		roundTrips(t, dial(t, l.A, s, port), 1)
		roundTrips(t, dial(t, l.A, s, port), 1)
	}
	// Six distinct peers: four servers seen by the client, and the client's
	// .1 (v4-mapped) and ::1 seen by the server.
	var total uint64
	own, other := 0, 0
	for id, s := range histSeries(gather(t, p), MeasurementConnect) {
		total += s.count
		if id == "direction=active,peer=other" || id == "direction=passive,peer=other" {
			other++
		} else {
			own++
		}
	}
	require.Equal(t, uint64(2*len(servers)*2), total, "every connection counted on both sides")
	require.LessOrEqual(t, own, 2, "at most max_peers addresses have series of their own")
	require.Positive(t, other)
	require.Equal(t, uint64(6-2), p.Status().Counters["peers_folded"], "six distinct peers, two admitted")
}

// by_port tags the listening side's port on both sides; by_interface the
// route's device.
func TestByPortAndInterface(t *testing.T) {
	testenv.RequirePrivileged(t)
	l := testenv.NewVethLink(t)
	port := serve(t, l.B)
	cfg := DefaultConfig()
	cfg.Ports, cfg.ByPort, cfg.ByInterface = []int{port}, true, true
	p := startProbe(t, NameConnect, cfg).(*connectProbe)
	// Interface indexes belong to the client's namespace: name them there.
	p.tags.ifaces = netnsIfaceNames(t, l.A)

	roundTrips(t, dial(t, l.A, l.B4, port), 1)
	got := histSeries(gather(t, p), MeasurementConnect)
	active := fmt.Sprintf("direction=active,iface=%s,peer=%s,port=%d", l.IfA, l.B4, port)
	require.Contains(t, got, active)
	require.Equal(t, uint64(1), got[active].count)
	var passive int
	for id, s := range got {
		if id != active {
			require.Contains(t, id, "direction=passive,iface=")
			require.Contains(t, id, fmt.Sprintf("peer=%s,port=%d", l.A4, port), "the server's own port")
			require.Equal(t, uint64(1), s.count)
			passive++
		}
	}
	require.Equal(t, 1, passive)
}
