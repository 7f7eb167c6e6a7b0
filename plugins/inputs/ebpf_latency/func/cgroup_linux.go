package funcprobe

import (
	"github.com/cilium/ebpf"

	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// prepareCgroups sets the cgroup knobs, marks the functions with by_cgroup
// and sizes the histogram map: max_cgroups plus "other" for each function
// with by_cgroup (the others keep their series in func_rows), noting in cuts
// if the memory budget cuts it.
func (p *funcProbe) prepareCgroups(spec *ebpf.CollectionSpec, cuts histogram.BudgetCuts) error {
	attribution := p.cfg.attribution()
	if err := attribution.Prepare(spec); err != nil {
		return err
	}
	marks := spec.Maps[funcbpf.FuncMapFuncByCgroup]
	series := 0 // in the hash: a function without by_cgroup has its row in func_rows
	for i, f := range p.cfg {
		if !f.ByCgroup {
			continue
		}
		series += attribution.SeriesPerKey()
		marks.Contents = append(marks.Contents, ebpf.MapKV{Key: uint32(i), Value: uint8(1)})
	}
	_, err := cuts.Fit(spec, funcbpf.FuncMapFuncHists, uint32(series))
	return err
}

// cgroupVerdict tags the series of a function with by_cgroup (Tagger.Tag);
// others are written as they are.
func (p *funcProbe) cgroupVerdict(f *Function, k *funcbpf.FuncFuncHistKey, tags map[string]string) cgroup.Verdict {
	if !f.ByCgroup {
		return cgroup.Write
	}
	return p.cgroups.TagInto(tags, k.Cgroup)
}
