package bench

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// seriesKey is a typical probe key: a device or peer id and a few small tags.
type seriesKey struct {
	Dev              uint32
	Op, Stage, Flags uint8
	_                uint8
}

// GatherFixture is a kernel per-CPU hash of n series of one histogram each,
// filled from user space, read the way a probe's Gather reads it.
type GatherFixture struct {
	Series  int
	opts    histogram.Options
	keys    []seriesKey
	values  *histogram.Values // len(keys) * CPUs, as the kernel holds them
	lo, hi  int               // the slots the samples sit in
	coll    *ebpf.Collection
	reader  *histogram.Reader
	emitter *histogram.Emitter
	names   map[uint32]string // stands in for a probe's device-name cache
}

// Slots the fixture's samples sit in: 16 µs to 256 µs (log2x4: the same
// range, four times as many slots).
const gatherLo, gatherHi = 4, 8

// NewGatherFixture creates and fills the maps, read and written as opts
// says; Close frees them.
func NewGatherFixture(n int, opts histogram.Options) (*GatherFixture, error) {
	shape := histogram.One(opts.Scheme)
	hists, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "bench_hists",
		Type:       ebpf.PerCPUHash,
		KeySize:    uint32(binary.Size(seriesKey{})),
		ValueSize:  uint32(8 * shape.Words()), // struct hist cut to the scheme
		MaxEntries: uint32(n),
	})
	if err != nil {
		return nil, fmt.Errorf("creating a %d-entry per-CPU hash: %w", n, err)
	}
	epoch, err := ebpf.NewMap(&ebpf.MapSpec{Name: "hist_epoch", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		hists.Close()
		return nil, err
	}
	f := &GatherFixture{
		Series:  n,
		opts:    opts,
		coll:    &ebpf.Collection{Maps: map[string]*ebpf.Map{"bench_hists": hists, "hist_epoch": epoch}},
		emitter: histogram.NewEmitter(opts),
		names:   make(map[uint32]string, n),
	}
	if f.reader, err = histogram.NewReader(f.coll, "bench_hists", shape); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.fill(hists); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// fill writes n distinct keys; every CPU holds a share of each series.
func (f *GatherFixture) fill(hists *ebpf.Map) error {
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return err
	}
	f.lo, f.hi = gatherLo, gatherHi
	if f.opts.Scheme == histogram.Log2x4 {
		f.lo, f.hi = 4*gatherLo, 4*gatherHi
	}
	f.values = histogram.NewValues(histogram.One(f.opts.Scheme), f.Series*cpus)
	sh := f.values.Shape
	for i := range f.Series * cpus {
		v := f.values.Value(i)
		for s := f.lo; s <= f.hi; s++ {
			v[sh.SlotWord(0, s)] = uint64(i%cpus + s)
		}
		v[sh.HeadWord(0, histogram.HeadSumNs)], v[sh.HeadWord(0, histogram.HeadMaxNs)] = 1_000_000, 200_000
	}
	for i := 0; i < f.Series; i++ {
		k := seriesKey{Dev: uint32(i) >> 2, Op: uint8(i & 1), Stage: uint8(i >> 1 & 1)}
		if err := hists.Update(&k, f.values.PerCPU[i*cpus:(i+1)*cpus], ebpf.UpdateNoExist); err != nil {
			return fmt.Errorf("filling key %d: %w", i, err)
		}
		f.keys = append(f.keys, k)
		f.names[k.Dev] = fmt.Sprintf("dev%d", k.Dev)
	}
	return nil
}

// Advance adds samples to every series, in one batch update, so the next
// gather has an interval to write (quantiles, interval buckets): what a
// busy host's gather finds.
func (f *GatherFixture) Advance() error { return f.AdvanceEvery(1) }

// AdvanceEvery adds samples to one series in every step (1: all of them):
// a host where only some series are busy.
func (f *GatherFixture) AdvanceEvery(step int) error {
	sh := f.values.Shape
	cpus := len(f.values.PerCPU) / f.Series
	for i := range f.values.PerCPU {
		if (i/cpus)%step != 0 {
			continue
		}
		v := f.values.Value(i)
		v[sh.SlotWord(0, f.lo+i%(f.hi-f.lo+1))]++
		v[sh.HeadWord(0, histogram.HeadSumNs)] += 20_000
	}
	_, err := f.coll.Maps["bench_hists"].BatchUpdate(f.keys, f.values.PerCPU, nil)
	return err
}

// Gather does what a probe's Gather does per series: name lookup, tag map,
// series id, Emit. It returns the number of series read.
func (f *GatherFixture) Gather(acc telegraf.Accumulator) (int, error) {
	now := time.Now()
	n := 0
	err := histogram.ReadAll(f.reader, func(k *seriesKey, iv *histogram.Interval) {
		n++
		tags := map[string]string{"device": f.names[k.Dev], "op": "read", "stage": "service"}
		f.emitter.Emit(acc, "ebpf_disk_latency", tags, iv, now)
	})
	return n, err
}

// ReadOnly walks the map and merges per-CPU values without emitting: the
// kernel-read share of Gather.
func (f *GatherFixture) ReadOnly() (int, error) {
	n := 0
	err := histogram.ReadAll(f.reader, func(*seriesKey, *histogram.Interval) { n++ })
	return n, err
}

// Close frees the maps.
func (f *GatherFixture) Close() {
	if f.coll != nil {
		f.coll.Close()
		f.coll = nil
	}
}

// Discard is an accumulator that drops everything: Gather's own cost only.
// It counts lines, and series by their summary line.
type Discard struct{ Lines, Series int }

func (d *Discard) AddFields(_ string, fields map[string]any, _ map[string]string, _ ...time.Time) {
	d.Lines++
	if _, ok := fields[histogram.FieldCount]; ok {
		d.Series++
	}
}
func (d *Discard) AddGauge(string, map[string]any, map[string]string, ...time.Time)     { d.Lines++ }
func (d *Discard) AddCounter(string, map[string]any, map[string]string, ...time.Time)   { d.Lines++ }
func (d *Discard) AddSummary(string, map[string]any, map[string]string, ...time.Time)   { d.Lines++ }
func (d *Discard) AddHistogram(string, map[string]any, map[string]string, ...time.Time) { d.Lines++ }
func (d *Discard) AddMetric(telegraf.Metric)                                            { d.Lines++ }
func (d *Discard) SetPrecision(time.Duration)                                           {}
func (d *Discard) AddError(error)                                                       {}

// WithTracking is not used by Gather.
func (d *Discard) WithTracking(int) telegraf.TrackingAccumulator { return nil }
