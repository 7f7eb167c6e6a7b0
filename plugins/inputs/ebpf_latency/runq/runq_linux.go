package runq

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/influxdata/telegraf"

	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/commglob"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probeio"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// flavours lists the hook chain, best first: the scheduler's own enqueue
// stamps (one sched_switch program, plus a count of the waits a migration
// restarts), then enqueue times of the probe's own. In those, sched_switch
// comes first so that no enqueue time is kept before switch-ins can
// consume it.
var flavours = []hooks.Flavour{
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{
		{Program: runqbpf.RunqProgRunqSwitchStampBtf, Group: "sched", Event: "sched_switch"},
		{Program: runqbpf.RunqProgRunqMigrateBtf, Group: "sched", Event: "sched_migrate_task"},
	}},
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

// chain is the part of flavours start_times allows.
func (c *Config) chain() []hooks.Flavour {
	switch c.StartTimes {
	case StartTimesKernel:
		return flavours[:1]
	case taskstarts.Auto:
		return flavours
	}
	return flavours[1:]
}

// threadSchedstat is the calling thread's sched_info (run time, wait, arrivals).
const threadSchedstat = "/proc/thread-self/schedstat"

type runqProbe struct {
	histogram.Settings
	idle.Setting

	cfg     *Config
	log     telegraf.Logger
	att     *hooks.Attached
	events  *slowevent.Reader
	reader  *histogram.Reader
	emitter *histogram.Emitter
	cgroups *cgroup.Tagger // nil unless by_cgroup
	expiry  *idle.Series[runqbpf.RunqRunqHistKey]
	// startTimes is the start_times value that runs: "kernel",
	// "task_storage" or "hash"; store describes the latter two.
	startTimes string
	store      taskstarts.Store
	// Tests: size the fallback hash of enqueue times (0: default), to
	// overflow it; stand in for the kernel's BTF and a thread's schedstat
	// (nil, "": the real ones), as an older kernel would show them; make
	// the switch-in clock lag (test_clock_lag_ns).
	startEntries uint32
	kernelTypes  *btf.Spec
	schedstat    string
	clockLag     time.Duration
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
	comms, err := commglob.Compile(p.cfg.Comms)
	if err != nil {
		return fmt.Errorf("comms: %w", err)
	}
	cuts := histogram.BudgetCuts{}
	att, err := hooks.Attach(spec, p.cfg.chain(), hooks.Options{
		Pin: p.cfg.pinnedHook(),
		Prepare: func(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
			return p.prepare(spec, kind, comms, cuts)
		},
	})
	if err != nil {
		return err
	}
	r, err := probeio.Open(att, p.cfg.histMap(), histogram.One(p.Histograms().Scheme), &p.cfg.Config, &p.cfg.Attribution)
	if err != nil {
		return err
	}
	p.att, p.reader, p.events, p.cgroups = att, r.Hists, r.Events, r.Cgroups
	p.emitter = histogram.NewEmitter(p.Histograms())
	p.expiry = idle.NewSeries[runqbpf.RunqRunqHistKey](p.IdleAfter())
	for _, a := range att.Passed {
		if errors.As(a.Err, new(errNoStamps)) {
			p.log.Warnf("runq: %v; fell back to enqueue times of its own", a.Err)
			continue
		}
		p.log.Warnf("runq: hook %s unavailable, fell back: %v", a.Kind, a.Err)
	}
	cuts.Warn(p.log, "runq", "hist_full", "max_comms, max_cgroups")
	p.log.Infof("runq: attached through %s, %s%s%s", att.Kind, p.describeStartTimes(), p.cfg.Config.Describe(), p.cfg.Attribution.Describe())
	return nil
}

func (p *runqProbe) describeStartTimes() string {
	if p.startTimes == StartTimesKernel {
		return "start_times \"kernel\": enqueue times from the scheduler's own stamps (sched_info.last_queued, rq clock)"
	}
	return p.store.String()
}

// prepareStartTimes sets up where enqueue times come from for one load:
// the scheduler's stamps when the flavour is the stamp program (refused,
// saying why, where the kernel lacks them), else records of the probe's
// own in task storage or a hash.
func (p *runqProbe) prepareStartTimes(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
	if spec.Programs[runqbpf.RunqProgRunqSwitchStampBtf] == nil {
		store, err := p.cfg.Setting.Prepare(spec, kind == hooks.TPBTF, p.startEntries)
		if err != nil {
			return err
		}
		p.store, p.startTimes = store, store.StartTimes()
		return nil
	}
	schedstat := p.schedstat
	if schedstat == "" {
		schedstat = threadSchedstat
	}
	if err := checkStamps(p.kernelTypes, schedstat); err != nil {
		if p.cfg.StartTimes == StartTimesKernel {
			return fmt.Errorf("start_times: %q unavailable: %w", StartTimesKernel, err)
		}
		return err
	}
	p.startTimes = StartTimesKernel
	return taskstarts.Unused(spec)
}

// prepare sets the knobs (slow events, cgroups, comm filter) and sizes the
// maps: one series without a
// filter, else max_comms plus "other", each times the cgroups by_cgroup
// may split it into. Enqueue times go to task storage under tp_btf, whose
// arguments are BTF task pointers. cuts notes the histogram map if the
// memory budget cuts it.
func (p *runqProbe) prepare(spec *ebpf.CollectionSpec, kind hooks.Kind, comms *commglob.Filter, cuts histogram.BudgetCuts) error {
	if err := p.prepareStartTimes(spec, kind); err != nil {
		return err
	}
	if err := p.cfg.Config.Prepare(spec); err != nil {
		return err
	}
	if err := p.cfg.Attribution.Prepare(spec); err != nil {
		return err
	}
	filter := len(p.cfg.Comms) > 0
	hists, slots := spec.Maps[runqbpf.RunqMapRunqHists], spec.Maps[runqbpf.RunqMapRunqCommSlots]
	if hists == nil || slots == nil {
		return fmt.Errorf("object lacks map %s or %s", runqbpf.RunqMapRunqHists, runqbpf.RunqMapRunqCommSlots)
	}
	want := uint32(1)
	slots.MaxEntries = 1
	if filter {
		want, slots.MaxEntries = uint32(p.cfg.MaxComms)+1, uint32(p.cfg.MaxComms)
	}
	if _, err := cuts.Fit(spec, runqbpf.RunqMapRunqHists, want*uint32(p.cfg.SeriesPerKey())); err != nil {
		return err
	}
	if err := comms.Prepare(spec); err != nil {
		return err
	}
	return hooks.SetKnobs(spec, map[string]any{
		runqbpf.RunqVarCommFilter:     filter,
		runqbpf.RunqVarTestClockLagNs: uint64(p.clockLag.Nanoseconds()),
	})
}

func (p *runqProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	p.emitSlowEvents(acc)
	if p.cgroups != nil {
		if err := p.cgroups.Begin(); err != nil {
			acc.AddError(fmt.Errorf("runq: %w", err))
		}
	}
	live := map[[16]int8]bool{}           // comms with a series left
	var dropped []runqbpf.RunqRunqHistKey // series of cgroups `cgroups` excludes
	visit := func(k *runqbpf.RunqRunqHistKey, iv *histogram.Interval) {
		if !p.expiry.Keep(*k, iv.Count(), now) {
			return
		}
		tags := map[string]string{}
		switch k.Series {
		case seriesComm:
			tags[TagComm] = tagvalue.FromC(commBytes(k.Comm))
		case seriesOther:
			tags[TagComm] = CommOther
		}
		verdict := p.cgroups.TagInto(tags, k.Cgroup)
		if verdict == cgroup.Drop {
			dropped = append(dropped, *k)
			return
		}
		live[k.Comm] = true // a series waiting for its cgroup's verdict too
		if verdict == cgroup.Wait {
			return
		}
		p.emitter.Emit(acc, Measurement, tags, iv, now)
	}
	var err error
	if p.cfg.singleSeries() {
		all := runqbpf.RunqRunqHistKey{Series: seriesAll}
		err = histogram.ReadAll(p.reader, func(_ *uint32, iv *histogram.Interval) {
			if iv.Count() > 0 { // the array's entry is there before any sample
				visit(&all, iv)
			}
		})
	} else {
		err = histogram.ReadAll(p.reader, visit)
	}
	if err != nil {
		return err
	}
	return p.expire(live, dropped)
}

// expire deletes the series idle for expire_idle_series and those dropped
// by the cgroup filter, then frees the max_comms and max_cgroups slots left
// without a series.
func (p *runqProbe) expire(live map[[16]int8]bool, dropped []runqbpf.RunqRunqHistKey) error {
	expired := append(p.expiry.Sweep(), dropped...)
	coll := p.att.Collection
	if p.cfg.singleSeries() {
		if len(expired) == 0 {
			return nil
		}
		// It comes back from zero, as a deleted hash series would.
		return histogram.ZeroRows(coll.Maps[runqbpf.RunqMapRunqSingle], 0)
	}
	err := idle.DeleteFreeing(coll.Maps[runqbpf.RunqMapRunqHists], coll.Maps[runqbpf.RunqMapRunqCommSlots], expired, live,
		func(k *runqbpf.RunqRunqHistKey) ([16]int8, bool) { return k.Comm, k.Series == seriesComm })
	if err != nil || p.cgroups == nil {
		return err
	}
	cgroups := make([]uint64, len(expired))
	for i, k := range expired {
		cgroups[i] = k.Cgroup
	}
	return p.cgroups.Finish(cgroups)
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
		st.StartTimes = p.startTimes
	}
	p.cgroups.Counters(st.Counters)
	return st
}

func (p *runqProbe) Stop() error {
	if p.att == nil {
		return nil
	}
	err := errors.Join(p.events.Close(), p.att.Close())
	p.att, p.events, p.cgroups = nil, nil, nil
	return err
}
