package funcprobe

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// prepareSlow sets the slow-event knobs and each function's own threshold.
func (p *funcProbe) prepareSlow(spec *ebpf.CollectionSpec, slow *slowevent.Config) error {
	if err := slow.Prepare(spec); err != nil {
		return err
	}
	thresholds := spec.Maps[funcbpf.FuncMapFuncSlowNs]
	for i, f := range p.cfg {
		if d := f.slowThreshold(); d > 0 {
			thresholds.Contents = append(thresholds.Contents, ebpf.MapKV{Key: uint32(i), Value: uint64(d.Nanoseconds())})
		}
	}
	if len(thresholds.Contents) > 0 && len(p.cfg) > int(thresholds.MaxEntries) {
		return fmt.Errorf("%d functions, room for %d thresholds", len(p.cfg), thresholds.MaxEntries)
	}
	return nil
}

// emitSlowEvents writes the slow calls since the last gather: tags as the
// function's series, fields the calling thread.
func (p *funcProbe) emitSlowEvents(acc telegraf.Accumulator) {
	for _, e := range p.events.Take() {
		if int(e.What) >= len(p.cfg) {
			continue
		}
		f := &p.cfg[e.What]
		tags := map[string]string{TagBinary: f.binaryTag(), TagFunction: f.functionTag()}
		if f.ByCgroup && !p.cgroups.TagEvent(tags, e.Cgroup) {
			continue
		}
		slowevent.Emit(acc, Name, &e, tags, nil)
	}
}
