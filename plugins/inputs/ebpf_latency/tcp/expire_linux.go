package tcp

import (
	"fmt"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
)

// peerExpiry ages out a probe's series (expire_idle_series) map by map,
// deletes those the `cgroups` filter drops, and frees the max_peers slot of
// each peer (and the max_cgroups slot of each cgroup) left without a series.
type peerExpiry struct {
	after   time.Duration
	series  map[string]*idle.Series[tcpKey] // by map name
	dropped map[string][]tcpKey             // by map name: series of excluded cgroups
	live    map[[16]uint8]bool              // peers with a series kept this gather
}

// begin starts a gather: the cgroup tags come from one scan of the mount.
func (b *base) begin(acc telegraf.Accumulator) {
	if b.cgroups == nil {
		return
	}
	if err := b.cgroups.Begin(); err != nil {
		acc.AddError(fmt.Errorf("%s: %w", b.name, err))
	}
}

// series records one series of mapName and returns its tags, or false when
// it is not written in this gather: idle, its cgroup not judged yet, or
// its cgroup excluded (then expire deletes it).
func (b *base) series(mapName string, k *tcpKey, count uint64, now time.Time) (map[string]string, bool) {
	x := &b.expiry
	if x.series == nil {
		x.series, x.dropped, x.live = map[string]*idle.Series[tcpKey]{}, map[string][]tcpKey{}, map[[16]uint8]bool{}
	}
	s, ok := x.series[mapName]
	if !ok {
		s = idle.NewSeries[tcpKey](x.after)
		x.series[mapName] = s
	}
	if !s.Keep(*k, count, now) {
		return nil, false
	}
	tags := b.tags.tags(k)
	if b.cgroups != nil {
		tag, verdict := b.cgroups.Tag(k.Cgroup)
		switch verdict {
		case cgroup.Drop:
			x.dropped[mapName] = append(x.dropped[mapName], *k)
			return nil, false
		case cgroup.Wait:
			x.markLive(k)
			return nil, false
		}
		tags[cgroup.TagName] = tag
	}
	x.markLive(k)
	return tags, true
}

func (x *peerExpiry) markLive(k *tcpKey) {
	if k.Kind == kindAddr {
		x.live[k.Addr] = true
	}
}

// expire deletes the series found idle since the last expire and those
// dropped, in every map series saw, then the peer and cgroup slots no
// series uses any more.
func (b *base) expire() error {
	x := &b.expiry
	var (
		freed   []tcpAddr
		cgroups []uint64
	)
	for name, s := range x.series {
		gone := append(s.Sweep(), x.dropped[name]...)
		x.dropped[name] = x.dropped[name][:0]
		if err := idle.Delete(b.att.Collection.Maps[name], gone); err != nil {
			return err
		}
		if b.expired != nil {
			if err := b.expired(name, gone); err != nil {
				return err
			}
		}
		for _, k := range gone {
			cgroups = append(cgroups, k.Cgroup)
			if k.Kind == kindAddr && !x.live[k.Addr] {
				x.live[k.Addr] = true // once
				freed = append(freed, tcpAddr{B: k.Addr})
			}
		}
	}
	clear(x.live)
	if err := idle.Delete(b.att.Collection.Maps[mapPeers], freed); err != nil {
		return err
	}
	if b.cgroups == nil {
		return nil
	}
	return b.cgroups.Finish(cgroups)
}
