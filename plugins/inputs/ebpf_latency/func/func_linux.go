package funcprobe

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probeio"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

type funcProbe struct {
	histogram.Settings

	cfg      Config
	log      telegraf.Logger
	flavours []hooks.Flavour // tests narrow the chain to prove the fallback
	att      *hooks.Attached
	events   *slowevent.Reader
	cgroups  *cgroup.Tagger // nil unless a function has by_cgroup
	reader   *histogram.Reader
	rows     *histogram.Rows[funcbpf.FuncFuncHistKey] // the series of functions without by_cgroup
	emitter  *histogram.Emitter
	attached int
	failed   int
	store    taskstarts.Store
	// startEntries sizes the fallback hash of threads in a call (0:
	// default); tests shrink it to overflow it.
	startEntries uint32
}

func newProbe(cfg Config, log telegraf.Logger) probe.Probe {
	return &funcProbe{cfg: cfg, log: log, flavours: flavours}
}

// Start loads the programs, then links each function on its own: one that
// fails is logged and counted, and the others run. Only when none attaches
// does Start fail.
func (p *funcProbe) Start() error {
	spec, err := funcbpf.LoadFunc()
	if err != nil {
		return fmt.Errorf("reading the embedded func object: %w", err)
	}
	if err := histogram.SetScheme(spec, p.Histograms().Scheme); err != nil {
		return err
	}
	cuts := histogram.BudgetCuts{}
	if err := p.prepareCgroups(spec, cuts); err != nil {
		return err
	}
	slow := p.cfg.slowConfig()
	if err := p.prepareSlow(spec, &slow); err != nil {
		return err
	}
	starts := p.cfg.startTimes()
	att, err := hooks.Attach(spec, p.flavours, hooks.Options{Skip: unusedSlots(len(p.cfg)),
		Prepare: func(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
			// Uprobes run in the thread: bpf_get_current_task_btf() is
			// the pointer task storage wants.
			store, err := starts.Prepare(spec, true, p.startEntries)
			p.store = store
			if err != nil {
				return err
			}
			return prepare(spec, kind)
		}})
	if err != nil {
		return err
	}
	for _, a := range att.Passed {
		if a.Kind == hooks.UprobeMulti {
			p.log.Infof("func: no uprobe_multi links (%v); attaching through perf_event_open", a.Err)
			continue
		}
		p.log.Warnf("func: no attach cookies (%v); fell back to one program pair per function, at most %d functions", a.Err, slots)
	}
	cuts.Warn(p.log, "func", "hist_full", "max_cgroups, functions with by_cgroup")
	pair := pairFor(att)
	p.attached, p.failed = 0, 0
	var reasons []string
	for i, f := range p.cfg {
		links, err := attachFunction(att.Collection, att.Kind, pair, i, f)
		if err != nil {
			p.failed++
			p.log.Errorf("func: not measured: %v", err)
			reasons = append(reasons, err.Error())
			continue
		}
		for _, l := range links {
			att.Keep(l)
		}
		p.attached++
	}
	if p.attached == 0 {
		att.Close()
		return fmt.Errorf("no function could be attached: %s", strings.Join(reasons, "; "))
	}
	attribution := p.cfg.attribution()
	r, err := probeio.Open(att, funcbpf.FuncMapFuncHists, histogram.One(p.Histograms().Scheme), &slow, &attribution)
	if err != nil {
		return err
	}
	rows, err := histogram.NewRows(r.Hists, att.Collection.Maps[funcbpf.FuncMapFuncRows], p.rowKey)
	if err != nil {
		return errors.Join(err, r.Events.Close(), att.Close())
	}
	p.att, p.reader, p.rows, p.events, p.cgroups = att, r.Hists, rows, r.Events, r.Cgroups
	p.emitter = histogram.NewEmitter(p.Histograms())
	p.log.Infof("func: %d of %d functions attached, %s%s%s", p.attached, len(p.cfg), p.store, slow.Describe(), attribution.Describe())
	return nil
}

func (p *funcProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	p.emitSlowEvents(acc)
	if p.cgroups != nil {
		if err := p.cgroups.Begin(); err != nil {
			acc.AddError(fmt.Errorf("func: %w", err))
		}
	}
	var dropped []funcbpf.FuncFuncHistKey // series of cgroups `cgroups` excludes
	err := histogram.ReadAllWithRows(p.reader, p.rows, func(k *funcbpf.FuncFuncHistKey, iv *histogram.Interval) {
		if int(k.Fn) >= len(p.cfg) {
			return
		}
		f := &p.cfg[k.Fn]
		tags := map[string]string{TagBinary: f.binaryTag(), TagFunction: f.functionTag()}
		switch p.cgroupVerdict(f, k, tags) {
		case cgroup.Drop:
			dropped = append(dropped, *k)
		case cgroup.Write:
			p.emitter.Emit(acc, Measurement, tags, iv, now)
		}
	})
	if err != nil || p.cgroups == nil {
		return err
	}
	if err := idle.Delete(p.att.Collection.Maps[funcbpf.FuncMapFuncHists], dropped); err != nil {
		return err
	}
	ids := make([]uint64, len(dropped))
	for i, k := range dropped {
		ids[i] = k.Cgroup
	}
	return p.cgroups.Finish(ids)
}

// rowKey is the series row fn of func_rows holds: function fn's, with
// no cgroup (the kernel records there for functions without by_cgroup).
func (p *funcProbe) rowKey(fn uint32) (funcbpf.FuncFuncHistKey, bool) {
	return funcbpf.FuncFuncHistKey{Fn: fn}, int(fn) < len(p.cfg)
}

func (p *funcProbe) Status() probe.Status {
	st := p.events.Counters(probe.StatusOf(p.att, funcbpf.FuncMapFuncCounters, counterNames))
	if p.att != nil {
		st = taskstarts.Counters(p.att.Collection, st)
		st.StartTimes = p.store.StartTimes()
		st.Counters[counterAttached] = uint64(p.attached)
		st.Counters[counterFailed] = uint64(p.failed)
	}
	p.cgroups.Counters(st.Counters)
	return st
}

func (p *funcProbe) Stop() error {
	if p.att == nil {
		return nil
	}
	err := errors.Join(p.events.Close(), p.att.Close())
	p.att, p.events, p.cgroups = nil, nil, nil
	return err
}
