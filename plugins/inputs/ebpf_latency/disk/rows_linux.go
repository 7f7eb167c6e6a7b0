package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// diskOps is DISK_OPS, len(opNames): a disk's series of op o is row disk*diskOps + o of disk_rows.
const diskOps = 5

// rowEntries is disk_row_of_dev's size: direct-mapped by a hash of the dev,
// so large against the disks a machine has, to make two disks sharing an
// entry (the second then stays in the hash) rare. 32 KiB, not per CPU.
const rowEntries = 4096

// diskRows gives disks their rows in disk_rows, the default series path
// (row_of in disk.bpf.c): the disks here at start, before load, and each
// disk whose series show up in the hash later, at the gather that sees
// them, while rows are left. A disk without one is measured through the
// hash, never lost.
//
// With no row left, a newcomer takes the row of a disk whose series all
// ended (expire_idle_series: gone, or idle that long), in two gathers so
// that no sample is filed under the wrong disk: the first frees the old
// disk's entry (its next samples go to the hash) and leaves the row
// draining, still read as the old disk's; the next gives the row away only
// if it held nothing at that read, which a sample recorded through the old
// entry after the first would have shown (a program runs for microseconds,
// gathers are seconds apart).
type diskRows struct {
	on       bool
	devs     []uint32          // disk row -> dev its samples belong to; 0: free
	rowOf    map[uint32]uint32 // dev -> disk row, for disks with an entry
	draining map[uint32]uint32 // dev -> disk row being taken from it
	entries  map[uint32]uint32 // disk_row_of_dev entry -> dev there
	mask     uint32
	table    *ebpf.Map // disk_row_of_dev, once loaded
	rows     *histogram.Rows[diskbpf.DiskDiskHistKey]
	// excluded says a disk is left out by the devices filter: it gets no
	// row, and its entry, if free, is marked rowExcluded.
	excluded func(dev uint32) bool
	// Tests: only disks this accepts get rows (nil: all).
	accept func(dev uint32) bool
}

// rowExcluded is DISK_ROW_EXCLUDED: the row of an entry whose disk the
// kernel skips, told by the lookup it makes anyway.
const rowExcluded = ^uint32(0)

// rowEntry is the disk_row_of_dev entry of dev: row_of's hash.
func rowEntry(dev, mask uint32) uint32 {
	return uint32((uint64(dev)*0x9E3779B97F4A7C15)>>32) & mask
}

// plan sizes both maps in spec and gives the disks here now their rows:
// room for twice as many disks (at least 8), within the map memory budget;
// one entry each and no rows when off (by_cgroup or flags: open-ended keys).
func (d *diskRows) plan(spec *ebpf.CollectionSpec, on bool, disks uint32, excluded, accept func(uint32) bool) error {
	rowsMap, table := spec.Maps[diskbpf.DiskMapDiskRows], spec.Maps[diskbpf.DiskMapDiskRowOfDev]
	*d = diskRows{on: on, rowOf: map[uint32]uint32{}, draining: map[uint32]uint32{}, entries: map[uint32]uint32{}, excluded: excluded, accept: accept}
	table.Contents = nil
	if !on {
		rowsMap.MaxEntries, table.MaxEntries = 1, 1
		return setRowKnobs(spec, false, 0)
	}
	present := blockDevs()
	if disks == 0 {
		disks = max(2*uint32(len(present)), 8)
	}
	granted, err := histogram.FitMap(rowsMap, disks*diskOps)
	if err != nil {
		return fmt.Errorf("sizing %s: %w", diskbpf.DiskMapDiskRows, err)
	}
	disks = max(granted/diskOps, 1)
	rowsMap.MaxEntries, table.MaxEntries = disks*diskOps, rowEntries
	d.devs, d.mask = make([]uint32, disks), rowEntries-1
	// Wanted disks first: where a wanted and an unwanted disk share an
	// entry, the wanted one keeps its row (the unwanted one is still
	// skipped, through disk_excluded).
	for _, dev := range present {
		if entry, row, ok := d.place(dev); ok {
			table.Contents = append(table.Contents, ebpf.MapKV{Key: entry, Value: diskbpf.DiskDiskRow{Dev: dev, Row: row}})
		}
	}
	for _, dev := range present {
		if entry, ok := d.markExcluded(dev); ok {
			table.Contents = append(table.Contents, ebpf.MapKV{Key: entry, Value: diskbpf.DiskDiskRow{Dev: dev, Row: rowExcluded}})
		}
	}
	return setRowKnobs(spec, true, d.mask)
}

func setRowKnobs(spec *ebpf.CollectionSpec, on bool, mask uint32) error {
	for name, v := range map[string]any{diskbpf.DiskVarUseRows: on, diskbpf.DiskVarRowOfDevMask: mask} {
		if err := spec.Variables[name].Set(v); err != nil {
			return fmt.Errorf("setting %s: %w", name, err)
		}
	}
	return nil
}

// place gives dev a row and its entry, if both are free. A disk whose row
// is draining waits for it to go first: one row per series key.
func (d *diskRows) place(dev uint32) (entry, row uint32, ok bool) {
	_, draining := d.draining[dev]
	if d.hasRow(dev) || draining || dev == 0 || d.excluded(dev) || (d.accept != nil && !d.accept(dev)) {
		return 0, 0, false
	}
	entry = rowEntry(dev, d.mask)
	if _, taken := d.entries[entry]; taken {
		return 0, 0, false
	}
	for row, held := range d.devs {
		if held == 0 {
			d.devs[row], d.rowOf[dev], d.entries[entry] = dev, uint32(row), dev
			return entry, uint32(row), true
		}
	}
	return 0, 0, false
}

// markExcluded takes dev's entry for the mark rowExcluded if dev is left
// out and the entry is free; else the kernel looks dev up in disk_excluded.
func (d *diskRows) markExcluded(dev uint32) (entry uint32, ok bool) {
	if dev == 0 || !d.excluded(dev) {
		return 0, false
	}
	entry = rowEntry(dev, d.mask)
	if _, taken := d.entries[entry]; taken {
		return 0, false
	}
	d.entries[entry] = dev
	return entry, true
}

// exclude marks the entries of disks judged unwanted after start.
func (d *diskRows) exclude(devs []uint32) error {
	if !d.on {
		return nil
	}
	for _, dev := range devs {
		entry, ok := d.markExcluded(dev)
		if !ok {
			continue
		}
		if err := d.table.Update(entry, diskbpf.DiskDiskRow{Dev: dev, Row: rowExcluded}, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("marking disk %d:%d excluded: %w", dev>>20, dev&0xfffff, err)
		}
	}
	return nil
}

// open takes the loaded maps; r reads the histograms.
func (d *diskRows) open(coll *ebpf.Collection, r *histogram.Reader) error {
	if !d.on {
		return nil
	}
	rows, err := histogram.NewRows(r, coll.Maps[diskbpf.DiskMapDiskRows], d.keyOf)
	if err != nil {
		return err
	}
	d.table, d.rows = coll.Maps[diskbpf.DiskMapDiskRowOfDev], rows
	return nil
}

// keyOf is the series row of disk_rows holds.
func (d *diskRows) keyOf(row uint32) (diskbpf.DiskDiskHistKey, bool) {
	dev := d.devs[row/diskOps]
	return diskbpf.DiskDiskHistKey{Dev: dev, Op: uint8(row % diskOps)}, dev != 0
}

// rowOfKey is the row of disk_rows holding key's series, if any.
func (d *diskRows) rowOfKey(k *diskbpf.DiskDiskHistKey) (uint32, bool) {
	row, ok := d.rowOf[k.Dev]
	if !ok {
		row, ok = d.draining[k.Dev]
	}
	return row*diskOps + uint32(k.Op), ok && k.Cgroup == 0 && k.Flags == 0
}

// adopt, after a read, frees the draining rows that held nothing at it,
// then gives rows to the disks of rowless (series seen in the hash alone)
// while rows and their entries are free: their next samples go to the row,
// and the reader merges what the hash holds. A disk still without one
// starts draining the row of a disk with no series at this read (read: the
// disks with one), for the next gather.
func (d *diskRows) adopt(rowless []uint32, read map[uint32]bool) error {
	for dev, row := range d.draining {
		if !d.holdsSeries(row) {
			delete(d.draining, dev)
			d.devs[row] = 0
		}
	}
	for _, dev := range rowless {
		entry, row, ok := d.place(dev)
		if ok {
			if err := d.table.Update(entry, diskbpf.DiskDiskRow{Dev: dev, Row: row}, ebpf.UpdateAny); err != nil {
				return fmt.Errorf("giving disk %d:%d a row: %w", dev>>20, dev&0xfffff, err)
			}
			continue
		}
		if !d.hasRow(dev) && len(d.draining) == 0 {
			if err := d.drainIdleRow(read); err != nil {
				return err
			}
		}
	}
	return nil
}

// drainIdleRow starts taking the row of a disk that had no series at the
// last read, in its row or the hash: its entry goes, so its next samples
// go to the hash.
func (d *diskRows) drainIdleRow(read map[uint32]bool) error {
	for row, dev := range d.devs {
		if _, draining := d.draining[dev]; dev == 0 || draining || read[dev] {
			continue
		}
		entry := rowEntry(dev, d.mask)
		if err := d.table.Update(entry, diskbpf.DiskDiskRow{}, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("taking the row of disk %d:%d: %w", dev>>20, dev&0xfffff, err)
		}
		delete(d.entries, entry)
		delete(d.rowOf, dev)
		d.draining[dev] = uint32(row)
		return nil
	}
	return nil
}

// holdsSeries says whether any of a disk row's rows held a series at the
// last read.
func (d *diskRows) holdsSeries(row uint32) bool {
	for op := range uint32(diskOps) {
		if d.rows.Held(row*diskOps + op) {
			return true
		}
	}
	return false
}

// hasRow says whether dev's series are in disk_rows.
func (d *diskRows) hasRow(dev uint32) bool {
	_, ok := d.rowOf[dev]
	return ok
}

// blockDevs are the kernel dev_t (MAJOR << 20 | MINOR) of the whole disks
// in /sys/block, in name order.
func blockDevs() []uint32 {
	names, _ := filepath.Glob("/sys/block/*/dev")
	var devs []uint32
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		var major, minor uint32
		if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d:%d", &major, &minor); err == nil {
			devs = append(devs, major<<20|minor)
		}
	}
	return devs
}

// describe is the start log's note of the rows.
func (d *diskRows) describe() string {
	if !d.on {
		return ""
	}
	return fmt.Sprintf(", rows for %d disk(s) (%d given)", len(d.devs), len(d.rowOf))
}
