package disk

import (
	"fmt"

	"github.com/cilium/ebpf"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
)

// slowDevices fills disk_slow_excluded, the disks whose slow events the
// kernel skips: with a devices filter and slow events on, an unwanted
// disk's slow requests would spend slow_events_per_second and count in
// slow_events_dropped although no line of that disk is ever written. The
// disks here at start are judged before load; a disk that appears later,
// at the first gather that reads a series of it (its events until then
// are sent and dropped in user space, as before the filter).
type slowDevices struct {
	on     bool
	judged map[uint32]bool
	table  *ebpf.Map // once loaded
	want   func(dev uint32) bool
	full   bool // the map refused an entry: said once
}

// plan sets the knob and the disks judged at start into spec.
func (s *slowDevices) plan(spec *ebpf.CollectionSpec, on bool, want func(dev uint32) bool) error {
	*s = slowDevices{on: on, judged: map[uint32]bool{}, want: want}
	table := spec.Maps[diskbpf.DiskMapDiskSlowExcluded]
	table.Contents = nil
	if !on {
		table.MaxEntries = 1
	} else {
		for _, dev := range blockDevs() {
			if s.judge(dev) && len(table.Contents) < int(table.MaxEntries) {
				table.Contents = append(table.Contents, ebpf.MapKV{Key: dev, Value: uint8(1)})
			}
		}
	}
	if err := spec.Variables[diskbpf.DiskVarFilterSlowDevices].Set(on); err != nil {
		return fmt.Errorf("setting %s: %w", diskbpf.DiskVarFilterSlowDevices, err)
	}
	return nil
}

// judge records dev as judged; true when its events are not wanted.
func (s *slowDevices) judge(dev uint32) bool {
	s.judged[dev] = true
	return !s.want(dev)
}

// open takes the loaded map.
func (s *slowDevices) open(coll *ebpf.Collection) {
	if s.on {
		s.table = coll.Maps[diskbpf.DiskMapDiskSlowExcluded]
	}
}

// add judges the disks of this gather's series that are new to it.
func (s *slowDevices) add(devs map[uint32]bool) error {
	if !s.on {
		return nil
	}
	for dev := range devs {
		if s.judged[dev] || !s.judge(dev) {
			continue
		}
		if err := s.table.Put(dev, uint8(1)); err != nil && !s.full {
			s.full = true
			return fmt.Errorf("disk: %s: disk %d:%d not excluded from slow events (its events are dropped in user space and may count in slow_events_dropped): %w",
				diskbpf.DiskMapDiskSlowExcluded, dev>>20, dev&0xfffff, err)
		}
	}
	return nil
}
