package runq

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// flavours lists the hook chain, best first. sched_switch comes first so
// that no enqueue time is kept before switch-ins can consume it.
var flavours = []hooks.Flavour{
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{
		{Program: runqbpf.RunqProgRunqSwitchBtf, Group: "sched", Event: "sched_switch"},
		{Program: runqbpf.RunqProgRunqWakeupBtf, Group: "sched", Event: "sched_wakeup"},
		{Program: runqbpf.RunqProgRunqWakeupNewBtf, Group: "sched", Event: "sched_wakeup_new"},
	}},
	{Kind: hooks.RawTP, Hooks: []hooks.Hook{
		{Program: runqbpf.RunqProgRunqSwitchRaw, Group: "sched", Event: "sched_switch"},
		{Program: runqbpf.RunqProgRunqWakeupRaw, Group: "sched", Event: "sched_wakeup"},
		{Program: runqbpf.RunqProgRunqWakeupNewRaw, Group: "sched", Event: "sched_wakeup_new"},
	}},
}

type runqProbe struct {
	histogram.Settings
	idle.Setting

	cfg     *Config
	log     telegraf.Logger
	att     *hooks.Attached
	events  *slowevent.Reader
	reader  *histogram.Reader
	emitter *histogram.Emitter
	expiry  *idle.Series[runqbpf.RunqRunqHistKey] // a comm series is its own slot
	store   taskstarts.Store
	// startEntries sizes the fallback hash of enqueue times (0: default);
	// tests shrink it to overflow it.
	startEntries uint32
}

func newProbe(cfg *Config, log telegraf.Logger) probe.Probe {
	return &runqProbe{cfg: cfg, log: log}
}

func (p *runqProbe) Start() error {
	spec, err := runqbpf.LoadRunq()
	if err != nil {
		return fmt.Errorf("reading the embedded runq object: %w", err)
	}
	if err := histogram.SetScheme(spec, p.Histograms().Scheme); err != nil {
		return err
	}
	globs, err := compileGlobs(p.cfg.Comms)
	if err != nil {
		return fmt.Errorf("comms: %w", err)
	}
	if err := p.cfg.Config.Prepare(spec); err != nil {
		return err
	}
	att, err := hooks.Attach(spec, flavours, hooks.Options{
		Pin: p.cfg.pinnedHook(),
		Prepare: func(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
			return p.prepare(spec, kind, globs)
		},
	})
	if err != nil {
		return err
	}
	reader, err := histogram.NewReader(att.Collection, runqbpf.RunqMapRunqHists, histogram.One(p.Histograms().Scheme))
	if err != nil {
		att.Close()
		return err
	}
	events, err := p.cfg.NewReader(att.Collection)
	if err != nil {
		att.Close()
		return err
	}
	p.att, p.reader, p.events = att, reader, events
	p.emitter = histogram.NewEmitter(p.Histograms())
	p.expiry = idle.NewSeries[runqbpf.RunqRunqHistKey](p.IdleAfter())
	for _, a := range att.Passed {
		p.log.Warnf("runq: hook %s unavailable, fell back: %v", a.Kind, a.Err)
	}
	p.log.Infof("runq: attached through %s, %s%s", att.Kind, p.store, p.cfg.Describe())
	return nil
}

// prepare sets the comm filter and sizes the histogram map: one series
// without a filter, else max_comms plus "other". Enqueue times go to task
// storage under tp_btf, whose arguments are BTF task pointers.
func (p *runqProbe) prepare(spec *ebpf.CollectionSpec, kind hooks.Kind, globs *automaton) error {
	store, err := p.cfg.Setting.Prepare(spec, kind == hooks.TPBTF, p.startEntries)
	if err != nil {
		return err
	}
	p.store = store
	filter := len(p.cfg.Comms) > 0
	hists := spec.Maps[runqbpf.RunqMapRunqHists]
	if hists == nil {
		return fmt.Errorf("object lacks map %s", runqbpf.RunqMapRunqHists)
	}
	want := uint32(1)
	if filter {
		want = uint32(p.cfg.MaxComms) + 1
	}
	if _, err := histogram.FitMap(hists, want); err != nil {
		return err
	}
	return hooks.SetKnobs(spec, map[string]any{
		runqbpf.RunqVarCommFilter: filter,
		runqbpf.RunqVarGlobStart:  globs.start,
		runqbpf.RunqVarGlobStar:   globs.star,
		runqbpf.RunqVarGlobAccept: globs.accept,
		runqbpf.RunqVarGlobChars:  globs.chars,
	})
}

func (p *runqProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	p.emitSlowEvents(acc)
	err := histogram.ReadAll(p.reader, func(k *runqbpf.RunqRunqHistKey, iv *histogram.Interval) {
		if !p.expiry.Keep(*k, iv.Count(), now) {
			return
		}
		tags := map[string]string{}
		switch k.Series {
		case seriesComm:
			tags[TagComm] = tagvalue.FromC(commBytes(k.Comm))
		case seriesOther:
			// The kernel makes "other" before the first comm series: it
			// stays silent until something is folded into it.
			if iv.Count() == 0 {
				return
			}
			tags[TagComm] = CommOther
		}
		p.emitter.Emit(acc, Measurement, tags, iv, now)
	})
	if err != nil {
		return err
	}
	// Deleting a comm's series frees its slot under max_comms.
	return idle.Delete(p.att.Collection.Maps[runqbpf.RunqMapRunqHists], p.expiry.Sweep())
}

func commBytes(comm [16]int8) []byte {
	b := make([]byte, len(comm))
	for i, c := range comm {
		b[i] = byte(c)
	}
	return b
}

func (p *runqProbe) Status() probe.Status {
	st := p.events.Counters(probe.StatusOf(p.att, runqbpf.RunqMapRunqCounters, counterNames))
	if p.att != nil {
		st = taskstarts.Counters(p.att.Collection, st)
	}
	return st
}

func (p *runqProbe) Stop() error {
	if p.att == nil {
		return nil
	}
	err := errors.Join(p.events.Close(), p.att.Close())
	p.att, p.events = nil, nil
	return err
}
