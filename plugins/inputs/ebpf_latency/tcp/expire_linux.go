package tcp

import (
	"time"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
)

// peerExpiry ages out a probe's series (expire_idle_series) map by map and
// frees the max_peers slot of each peer left without a series in any map.
type peerExpiry struct {
	after  time.Duration
	series map[string]*idle.Series[tcpKey] // by map name
	live   map[[16]uint8]bool              // peers with a series kept this gather
}

// keep records one series of mapName and says whether to write it.
func (b *base) keep(mapName string, k *tcpKey, count uint64, now time.Time) bool {
	x := &b.expiry
	if x.series == nil {
		x.series, x.live = map[string]*idle.Series[tcpKey]{}, map[[16]uint8]bool{}
	}
	s, ok := x.series[mapName]
	if !ok {
		s = idle.NewSeries[tcpKey](x.after)
		x.series[mapName] = s
	}
	if !s.Keep(*k, count, now) {
		return false
	}
	if k.Kind == kindAddr {
		x.live[k.Addr] = true
	}
	return true
}

// expire deletes the series found idle since the last expire, in every map
// keep saw, then the peer slots no series uses any more.
func (b *base) expire() error {
	x := &b.expiry
	var freed []tcpAddr
	for name, s := range x.series {
		expired := s.Sweep()
		if err := idle.Delete(b.att.Collection.Maps[name], expired); err != nil {
			return err
		}
		for _, k := range expired {
			if k.Kind == kindAddr && !x.live[k.Addr] {
				x.live[k.Addr] = true // once
				freed = append(freed, tcpAddr{B: k.Addr})
			}
		}
	}
	clear(x.live)
	return idle.Delete(b.att.Collection.Maps[mapPeers], freed)
}
