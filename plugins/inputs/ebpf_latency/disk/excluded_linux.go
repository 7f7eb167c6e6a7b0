package disk

import (
	"fmt"

	"github.com/cilium/ebpf"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
)

// excludedDevices fills disk_excluded, the disks the `devices` filter
// leaves out, whose completions the kernel skips: no series (an unwanted
// disk's would take histogram map room a wanted disk's new series may
// need), no slow event (it would spend slow_events_per_second and count in
// slow_events_dropped). The disks here at start are judged before load; a
// disk that appears later, at the first gather that reads a series of it
// (until then it is measured, and its series dropped in user space).
type excludedDevices struct {
	on     bool
	judged map[uint32]bool
	out    map[uint32]bool // judged unwanted
	table  *ebpf.Map       // once loaded
	want   func(dev uint32) bool
	full   bool // the map refused an entry: said once
}

// plan sets the knob and the disks judged at start into spec.
func (s *excludedDevices) plan(spec *ebpf.CollectionSpec, on bool, want func(dev uint32) bool) error {
	*s = excludedDevices{on: on, judged: map[uint32]bool{}, out: map[uint32]bool{}, want: want}
	table := spec.Maps[diskbpf.DiskMapDiskExcluded]
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
	if err := spec.Variables[diskbpf.DiskVarFilterDevices].Set(on); err != nil {
		return fmt.Errorf("setting %s: %w", diskbpf.DiskVarFilterDevices, err)
	}
	return nil
}

// judge records dev as judged; true when it is not wanted.
func (s *excludedDevices) judge(dev uint32) bool {
	s.judged[dev] = true
	if s.want(dev) {
		return false
	}
	s.out[dev] = true
	return true
}

// excluded says whether dev was judged unwanted.
func (s *excludedDevices) excluded(dev uint32) bool { return s.out[dev] }

// open takes the loaded map.
func (s *excludedDevices) open(coll *ebpf.Collection) {
	if s.on {
		s.table = coll.Maps[diskbpf.DiskMapDiskExcluded]
	}
}

// add judges the disks of this gather's series that are new to it and
// returns those judged unwanted.
func (s *excludedDevices) add(devs map[uint32]bool) ([]uint32, error) {
	if !s.on {
		return nil, nil
	}
	var out []uint32
	var err error
	for dev := range devs {
		if s.judged[dev] || !s.judge(dev) {
			continue
		}
		out = append(out, dev)
		if perr := s.table.Put(dev, uint8(1)); perr != nil && !s.full {
			s.full = true
			err = fmt.Errorf("disk: %s: disk %d:%d not excluded in the kernel (its series are dropped in user space, its slow events may count in slow_events_dropped): %w",
				diskbpf.DiskMapDiskExcluded, dev>>20, dev&0xfffff, perr)
		}
	}
	return out, err
}
