package syscall

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
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

// flavours lists the hook chain, best first. Exit attaches before entry, so
// every start time kept has a program to consume it, and thread exit (which
// drops a thread's record from the fallback hash) before both.
var flavours = []hooks.Flavour{
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{
		{Program: syscallbpf.SyscallProgSyscallThreadExitBtf, Group: "sched", Event: "sched_process_exit"},
		{Program: syscallbpf.SyscallProgSyscallExitBtf, Group: "raw_syscalls", Event: "sys_exit"},
		{Program: syscallbpf.SyscallProgSyscallEnterBtf, Group: "raw_syscalls", Event: "sys_enter"},
	}},
	{Kind: hooks.RawTP, Hooks: []hooks.Hook{
		{Program: syscallbpf.SyscallProgSyscallThreadExitRaw, Group: "sched", Event: "sched_process_exit"},
		{Program: syscallbpf.SyscallProgSyscallExitRaw, Group: "raw_syscalls", Event: "sys_exit"},
		{Program: syscallbpf.SyscallProgSyscallEnterRaw, Group: "raw_syscalls", Event: "sys_enter"},
	}},
}

type syscallProbe struct {
	histogram.Settings
	idle.Setting

	cfg     *Config
	log     telegraf.Logger
	names   map[uint32]string // syscall number -> configured name
	att     *hooks.Attached
	events  *slowevent.Reader
	reader  *histogram.Reader
	emitter *histogram.Emitter
	cgroups *cgroup.Tagger // nil unless by_cgroup
	store   taskstarts.Store
	// startEntries sizes the fallback hash of start times (0: by CPUs);
	// tests make it small.
	startEntries uint32
	expiry       *idle.Series[syscallbpf.SyscallSyscallHistKey]
}

func newProbe(cfg *Config, log telegraf.Logger) probe.Probe {
	return &syscallProbe{cfg: cfg, log: log}
}

func (p *syscallProbe) Start() error {
	comms, err := commglob.Compile(p.cfg.Comms)
	if err != nil {
		return fmt.Errorf("comms: %w", err)
	}
	spec, err := syscallbpf.LoadSyscall()
	if err != nil {
		return fmt.Errorf("reading the embedded syscall object: %w", err)
	}
	if err := histogram.SetScheme(spec, p.Histograms().Scheme); err != nil {
		return err
	}
	cuts := histogram.BudgetCuts{}
	att, err := hooks.Attach(spec, flavours, hooks.Options{
		Pin: p.pinnedHook(),
		Prepare: func(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
			if err := p.cfg.Config.Prepare(spec); err != nil {
				return err
			}
			if err := p.cfg.Attribution.Prepare(spec); err != nil {
				return err
			}
			if err := p.prepareStarts(spec, kind); err != nil {
				return err
			}
			return fillFilters(spec, p.cfg, comms, cuts)
		},
	})
	if err != nil {
		return err
	}
	r, err := probeio.Open(att, syscallbpf.SyscallMapSyscallHists, histogram.One(p.Histograms().Scheme), &p.cfg.Config, &p.cfg.Attribution)
	if err != nil {
		return err
	}
	p.att, p.reader, p.events, p.cgroups = att, r.Hists, r.Events, r.Cgroups
	p.emitter = histogram.NewEmitter(p.Histograms())
	p.expiry = idle.NewSeries[syscallbpf.SyscallSyscallHistKey](p.IdleAfter())
	p.names = p.cfg.numbers()
	for _, a := range att.Passed {
		p.log.Warnf("syscall: hook %s unavailable, fell back: %v", a.Kind, a.Err)
	}
	cuts.Warn(p.log, "syscall", "hist_full", "max_comms, syscalls, max_cgroups")
	p.log.Infof("syscall: attached through %s, timing %d syscalls, %s%s%s", att.Kind, len(p.names), p.store,
		p.cfg.Config.Describe(), p.cfg.Attribution.Describe())
	return nil
}

// prepareStarts picks where start times live: task storage under tp_btf,
// which hands it the current thread (bpf_get_current_task_btf, 5.11+ like
// task storage itself). raw_tp programs got both helpers only in later
// kernels than task storage, so raw_tp keeps the hash (as runq does).
func (p *syscallProbe) prepareStarts(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
	entries := p.startEntries
	if entries == 0 {
		var err error
		if entries, err = startEntries(); err != nil {
			return err
		}
	}
	store, err := p.cfg.Setting.Prepare(spec, kind == hooks.TPBTF, entries)
	p.store = store
	return err
}

// pinnedHook is the flavour the config pins, or nil for auto.
func (p *syscallProbe) pinnedHook() *hooks.Kind {
	if p.cfg.Hook == HookAuto {
		return nil
	}
	k, _ := hooks.ParseKind(p.cfg.Hook)
	return &k
}

func (p *syscallProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	p.emitSlowEvents(acc)
	if p.cgroups != nil {
		if err := p.cgroups.Begin(); err != nil {
			acc.AddError(fmt.Errorf("syscall: %w", err))
		}
	}
	live := map[[commLen]int8]bool{}               // comms with a series left
	var dropped []syscallbpf.SyscallSyscallHistKey // series of cgroups `cgroups` excludes
	err := histogram.ReadAll(p.reader, func(k *syscallbpf.SyscallSyscallHistKey, iv *histogram.Interval) {
		if !p.expiry.Keep(*k, iv.Count(), now) {
			return
		}
		comm := tagvalue.Escape(commString(k.Comm))
		if k.Comm[commLen-1] != 0 { // the fold mark: see struct syscall_hist_key
			comm = CommOther
		}
		tags := map[string]string{TagSyscall: p.name(k.Nr), TagComm: comm}
		if p.cgroups != nil {
			tag, verdict := p.cgroups.Tag(k.Cgroup)
			switch verdict {
			case cgroup.Drop:
				dropped = append(dropped, *k)
				return
			case cgroup.Wait:
				live[k.Comm] = true
				return
			}
			tags[TagCgroup] = tag
		}
		live[k.Comm] = true
		p.emitter.Emit(acc, Measurement, tags, iv, now)
	})
	if err != nil {
		return err
	}
	return p.expire(live, dropped)
}

// expire deletes the series idle for expire_idle_series and those dropped
// by the cgroup filter, then frees the max_comms and max_cgroups slots left
// without a series.
func (p *syscallProbe) expire(live map[[commLen]int8]bool, dropped []syscallbpf.SyscallSyscallHistKey) error {
	expired := append(p.expiry.Sweep(), dropped...)
	coll := p.att.Collection
	err := idle.DeleteFreeing(coll.Maps[syscallbpf.SyscallMapSyscallHists], coll.Maps[syscallbpf.SyscallMapSyscallCommSlots], expired, live,
		func(k *syscallbpf.SyscallSyscallHistKey) ([commLen]int8, bool) { return k.Comm, true })
	if err != nil || p.cgroups == nil {
		return err
	}
	cgroups := make([]uint64, len(expired))
	for i, k := range expired {
		cgroups[i] = k.Cgroup
	}
	return p.cgroups.Finish(cgroups)
}

// name of syscall number nr as configured.
func (p *syscallProbe) name(nr uint32) string {
	if name, ok := p.names[nr]; ok {
		return name
	}
	return fmt.Sprintf("nr%d", nr)
}

func (p *syscallProbe) Status() probe.Status {
	st := p.events.Counters(probe.StatusOf(p.att, syscallbpf.SyscallMapSyscallCounters, counterNames))
	if p.att == nil {
		return st
	}
	p.cgroups.Counters(st.Counters)
	st.StartTimes = p.store.StartTimes()
	return taskstarts.Counters(p.att.Collection, st)
}

func (p *syscallProbe) Stop() error {
	if p.att == nil {
		return nil
	}
	err := errors.Join(p.events.Close(), p.att.Close())
	p.att, p.events, p.cgroups = nil, nil, nil
	return err
}
