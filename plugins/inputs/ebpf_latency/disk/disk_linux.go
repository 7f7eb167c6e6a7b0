package disk

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probeio"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// flavours lists the hook chain, best first. The insert/issue programs only
// load when the probe keeps its own start times (or, with by_cgroup on a
// kernel without block_io_start, request cgroups); the block_io_start ones
// only with by_cgroup.
var flavours = []hooks.Flavour{
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{
		{Program: diskbpf.DiskProgDiskCompleteBtf, Group: "block", Event: "block_rq_complete"},
		{Program: diskbpf.DiskProgDiskInsertBtf, Group: "block", Event: "block_rq_insert"},
		{Program: diskbpf.DiskProgDiskIssueBtf, Group: "block", Event: "block_rq_issue"},
		{Program: diskbpf.DiskProgDiskCreatedBtf, Group: "block", Event: "block_io_start"},
	}},
	{Kind: hooks.RawTP, Hooks: []hooks.Hook{
		{Program: diskbpf.DiskProgDiskCompleteRaw, Group: "block", Event: "block_rq_complete"},
		{Program: diskbpf.DiskProgDiskInsertRaw, Group: "block", Event: "block_rq_insert"},
		{Program: diskbpf.DiskProgDiskIssueRaw, Group: "block", Event: "block_rq_issue"},
		{Program: diskbpf.DiskProgDiskCreatedRaw, Group: "block", Event: "block_io_start"},
	}},
	{Kind: hooks.Tracepoint, Hooks: []hooks.Hook{
		{Program: diskbpf.DiskProgDiskCompleteTp, Group: "block", Event: "block_rq_complete"},
		{Program: diskbpf.DiskProgDiskInsertTp, Group: "block", Event: "block_rq_insert"},
		{Program: diskbpf.DiskProgDiskIssueTp, Group: "block", Event: "block_rq_issue"},
		{Program: diskbpf.DiskProgDiskCreatedTp, Group: "block", Event: "block_io_start"},
	}},
}

type diskProbe struct {
	histogram.Settings
	idle.Setting

	cfg     *Config
	log     telegraf.Logger
	att     *hooks.Attached
	events  *slowevent.Reader
	reader  *histogram.Reader
	emitter *histogram.Emitter
	devices *deviceNames
	// excluded: the disks the devices filter leaves out, skipped by the kernel.
	excluded excludedDevices
	// pathDisks are the whole disks the path entries of devices resolved to.
	pathDisks map[string]bool
	// startTimes says where start times come from: "kernel", "probe" or "kernel+probe".
	startTimes    string
	fallback      bool // auto: the probe's start-time hooks are loaded, not yet attached
	warnedUntimed bool
	seriesRoom    uint32 // histogram map entries: (disk, op, flags) keys
	rows          diskRows
	completions   *completionCheck
	unseen        uint64         // completions the kernel counted and the hook missed, at the last gather
	cgroups       *cgroup.Tagger // nil unless by_cgroup
	// expiry ages out series without a new completion (expire_idle_series).
	expiry *idle.Series[diskbpf.DiskDiskHistKey]
	// retired are the completions of series deleted for the cgroups
	// filter, by disk and direction: the kernel still counts them.
	retired map[string][2]uint64
	// Tests: size disk_requests (a power of two; 0: its default), and act as on a kernel
	// without block_io_start (cgroups kept at insert/issue).
	requestSlots uint32
	noIOStart    bool
	// Tests: disk_hists' entries (0: wantSeries).
	histEntries uint32
	// Tests: disks with rows (0: the default) and which disks may have one.
	rowDisks  uint32
	rowAccept func(dev uint32) bool
}

func newProbe(cfg *Config, log telegraf.Logger) probe.Probe {
	return &diskProbe{cfg: cfg, log: log}
}

func (p *diskProbe) Start() error {
	spec, err := diskbpf.LoadDisk()
	if err != nil {
		return fmt.Errorf("reading the embedded disk object: %w", err)
	}
	if err := histogram.SetScheme(spec, p.Histograms().Scheme); err != nil {
		return err
	}
	kernelTimes, probeTimes, err := p.chooseStartTimes()
	if err != nil {
		return err
	}
	// auto with kernel timestamps loads the probe's own start-time hooks
	// too, attached only if completions come without the kernel's.
	mayFallBack := p.cfg.StartTimes == StartTimesAuto && kernelTimes
	p.devices = newDeviceNames() // before load: slow events' device verdicts need names
	if err := p.resolvePaths(); err != nil {
		return err
	}
	// Before 5.11, block_rq_insert/issue passed the queue before the request.
	issueArgs, err := kernel.TracepointArgs("block_rq_issue")
	if err != nil {
		issueArgs = 1 // tp_btf and raw_tp will fail to load; tracepoints remain
	}
	// by_cgroup keeps each request's cgroup at block_io_start (6.5+),
	// else at insert/issue, which then attach whatever the start times.
	_, noIOStart := kernel.TracepointArgs("block_io_start")
	ioStart := noIOStart == nil && !p.noIOStart
	cgroupAtStart := p.cfg.ByCgroup && !ioStart
	var deferred map[string]bool // loaded, attached by fallBack
	if mayFallBack && !cgroupAtStart {
		deferred = p.skippedPrograms(probeTimes, p.cfg.On())
	}
	cuts := histogram.BudgetCuts{}
	att, err := hooks.Attach(spec, flavours, hooks.Options{
		Pin: p.cfg.pinnedHook(),
		Prepare: func(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
			// Classic tracepoints carry no request pointer: start times can
			// only come from our own insert/issue hooks there.
			track := probeTimes || kind == hooks.Tracepoint
			p.fallback = mayFallBack && !track
			if track {
				p.startTimes = "probe"
				if kernelTimes && kind != hooks.Tracepoint {
					p.startTimes = "kernel+probe"
				}
			} else {
				p.startTimes = "kernel"
			}
			want := wantSeries(p.cfg.Flags, p.cfg.Attribution)
			if p.histEntries > 0 {
				want = p.histEntries
			}
			granted, err := cuts.Fit(spec, diskbpf.DiskMapDiskHists, want)
			if err != nil {
				return err
			}
			p.seriesRoom = granted
			if err := p.excluded.plan(spec, len(p.cfg.Devices) > 0, func(dev uint32) bool {
				return p.wantDevice(p.devices.name(dev))
			}); err != nil {
				return err
			}
			// Rows where the keys are disk and op alone; by_cgroup and
			// flags keep the hash for their open-ended keys.
			if err := p.rows.plan(spec, !p.cfg.ByCgroup && !p.cfg.Flags && !p.cfg.HashSeries, p.rowDisks, p.excluded.excluded, p.rowAccept); err != nil {
				return err
			}
			if err := p.sizeRequestMap(spec); err != nil {
				return err
			}
			if err := p.cfg.Config.Prepare(spec); err != nil {
				return err
			}
			if err := p.cfg.Attribution.Prepare(spec); err != nil {
				return err
			}
			return hooks.SetKnobs(spec, map[string]any{
				diskbpf.DiskVarWantQueue:            p.cfg.wantStage(StageQueue),
				diskbpf.DiskVarWantService:          p.cfg.wantStage(StageService),
				diskbpf.DiskVarWantFlags:            p.cfg.Flags,
				diskbpf.DiskVarTrackStarts:          track || p.fallback,
				diskbpf.DiskVarStartsKept:           track,
				diskbpf.DiskVarUseKernelTimes:       kernelTimes && kind != hooks.Tracepoint,
				diskbpf.DiskVarBlockRqTpHasQueueArg: issueArgs == 2,
				diskbpf.DiskVarCgroupAtIoStart:      ioStart,
				diskbpf.DiskVarSlotCmpxchg:          slowevent.HaveCmpxchg(),
			})
		},
		Skip:     p.skippedCgroupPrograms(p.skippedPrograms(probeTimes || mayFallBack || cgroupAtStart, p.cfg.On()), ioStart),
		Deferred: deferred,
	})
	if err != nil {
		return err
	}
	r, err := probeio.Open(att, diskbpf.DiskMapDiskHists, valueShape(p.Histograms().Scheme), &p.cfg.Config, &p.cfg.Attribution)
	if err != nil {
		return err
	}
	p.att, p.reader, p.events, p.cgroups = att, r.Hists, r.Events, r.Cgroups
	p.excluded.open(att.Collection)
	if err := p.rows.open(att.Collection, p.reader); err != nil {
		return errors.Join(err, p.Stop())
	}
	p.retired = map[string][2]uint64{}
	p.expiry = idle.NewSeries[diskbpf.DiskDiskHistKey](p.IdleAfter())
	p.emitter = histogram.NewEmitter(p.Histograms())
	p.completions = newCompletionCheck()
	for _, a := range att.Passed {
		p.log.Warnf("disk: hook %s unavailable, fell back: %v", a.Kind, a.Err)
	}
	cuts.Warn(p.log, "disk", "hist_full", "flags, max_cgroups")
	p.log.Infof("disk: attached through %s, start times from %s, room for %d device/op series%s%s", att.Kind, p.startTimes, p.seriesRoom, p.rows.describe(), p.cfg.Config.Describe()+p.cfg.Attribution.Describe())
	return nil
}

// resolvePaths finds the whole disks under each path entry of devices, once:
// a disk added later under a path is not followed.
func (p *diskProbe) resolvePaths() error {
	p.pathDisks = map[string]bool{}
	layers := newDiskLayers()
	for _, path := range p.cfg.devicePaths() {
		disks, chain, err := layers.disksUnder(path)
		if err != nil {
			return fmt.Errorf("devices: path %q: %v", path, err)
		}
		for _, d := range disks {
			p.pathDisks[d] = true
		}
		p.log.Infof("disk: devices path %q is on %s: measuring disk(s) %s", path, chain, strings.Join(disks, ", "))
	}
	return nil
}

// skippedPrograms drops the insert/issue hooks when the kernel's request
// timestamps suffice; classic tracepoints always need them. Slow events keep
// the issue hooks: they note who issued each request.
func (p *diskProbe) skippedPrograms(probeTimes, slowEvents bool) map[string]bool {
	if probeTimes {
		return nil
	}
	skip := map[string]bool{diskbpf.DiskProgDiskInsertBtf: true, diskbpf.DiskProgDiskInsertRaw: true}
	if !slowEvents {
		skip[diskbpf.DiskProgDiskIssueBtf], skip[diskbpf.DiskProgDiskIssueRaw] = true, true
	}
	return skip
}

// skippedCgroupPrograms adds the block_io_start programs to skip unless
// they keep request cgroups.
func (p *diskProbe) skippedCgroupPrograms(skip map[string]bool, ioStart bool) map[string]bool {
	if p.cfg.ByCgroup && ioStart {
		return skip
	}
	if skip == nil {
		skip = map[string]bool{}
	}
	skip[diskbpf.DiskProgDiskCreatedBtf], skip[diskbpf.DiskProgDiskCreatedRaw], skip[diskbpf.DiskProgDiskCreatedTp] = true, true, true
	return skip
}

// sizeRequestMap gives disk_requests its room, a power of two: one slot
// when neither by_cgroup nor slow events are on (it is never used), else a
// slot per request that can be in flight.
func (p *diskProbe) sizeRequestMap(spec *ebpf.CollectionSpec) error {
	m := spec.Maps[diskbpf.DiskMapDiskRequests]
	switch {
	case !p.cfg.ByCgroup && !p.cfg.Config.On():
		m.MaxEntries = 1
	case p.requestSlots > 0:
		m.MaxEntries = p.requestSlots
	}
	if m.MaxEntries&(m.MaxEntries-1) != 0 {
		return fmt.Errorf("%s: %d slots, not a power of two", diskbpf.DiskMapDiskRequests, m.MaxEntries)
	}
	return hooks.SetKnobs(spec, map[string]any{diskbpf.DiskVarRequestSlotMask: m.MaxEntries - 1})
}

// chooseStartTimes decides between the block layer's request timestamps and
// the probe's own insert/issue hooks.
func (p *diskProbe) chooseStartTimes() (kernelTimes, probeTimes bool, err error) {
	hasFields := kernel.StructHasMember("request", "io_start_time_ns")
	switch p.cfg.StartTimes {
	case StartTimesKernel:
		if !hasFields {
			return false, false, errors.New("start_times = \"kernel\": this kernel's struct request has no io_start_time_ns (Linux 4.17+); use \"auto\" or \"probe\"")
		}
		return true, false, nil
	case StartTimesProbe:
		return false, true, nil
	}
	// auto: the kernel's timestamps where struct request has them, else
	// ours; Gather adds ours when completions come without the kernel's.
	return hasFields, !hasFields, nil
}

// wantSeries sizes the histogram map: a key per disk, op and flags
// combination seen, for the disks here now and as many again, within
// 64..4096, times the cgroups by_cgroup may add (max_cgroups, the fold, and
// the unknown and excluded keys); histogram.FitMap then applies the memory
// budget.
func wantSeries(flags bool, cg cgroup.Attribution) uint32 {
	disks, _ := os.ReadDir("/sys/block")
	per := len(opNames)
	if flags {
		per *= 8
	}
	keys := min(max(2*len(disks)*per, 64), 4096)
	if cg.ByCgroup {
		keys *= cg.SeriesPerKey() + 2
	}
	return uint32(keys)
}

func (p *diskProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	p.warnUntimed()
	if err := p.fallBack(); err != nil {
		return err
	}
	now := time.Now()
	p.emitSlowEvents(acc)
	kernelNow := p.completions.read() // before the map: see completionCheck
	seen := maps.Clone(p.retired)
	if p.cgroups != nil {
		if err := p.cgroups.Begin(); err != nil {
			acc.AddError(fmt.Errorf("disk: %w", err))
		}
	}
	var (
		iv      histogram.Interval
		dropped []diskbpf.DiskDiskHistKey // series of cgroups `cgroups` excludes
		rowless []uint32                  // disks whose series are in the hash alone
		read    = map[uint32]bool{}       // disks with a series
	)
	err := p.readSeries(func(k *diskbpf.DiskDiskHistKey, s *histogram.Series) {
		read[k.Dev] = true
		if p.rows.on && !p.rows.hasRow(k.Dev) {
			rowless = append(rowless, k.Dev)
		}
		name := p.devices.name(k.Dev)
		completions := s.Lead(leadCompletions)
		countCompletions(seen, name, k.Op, completions)
		if !p.expiry.Keep(*k, completions, now) {
			// Deleted below: its completions stay counted for the check.
			countCompletions(p.retired, name, k.Op, completions)
			return
		}
		if !p.wantDevice(name) {
			return
		}
		cgroupTag, verdict := p.cgroupTag(k)
		switch verdict {
		case cgroup.Drop:
			dropped = append(dropped, *k)
			countCompletions(p.retired, name, k.Op, completions)
			return
		case cgroup.Wait:
			return
		}
		for stage := range stageNames {
			s.Merge(stage, &iv)
			if iv.Count() == 0 {
				continue // a stage never measured here (e.g. queue without inserts)
			}
			tags := map[string]string{"device": name, "op": opName(k.Op), "stage": stageNames[stage]}
			if p.cfg.Flags {
				tags["flags"] = flagsName(k.Flags)
			}
			if p.cgroups != nil {
				tags[TagCgroup] = cgroupTag
			}
			p.emitter.Emit(acc, Measurement, tags, &iv, now)
		}
	})
	if err != nil {
		return err
	}
	p.unseen = p.completions.emit(acc, kernelNow, seen, p.wantDevice, now)
	if err := p.deleteSeries(dropped); err != nil {
		return err
	}
	excluded, err := p.excluded.add(read)
	if err != nil {
		acc.AddError(err)
	}
	if err := p.rows.exclude(excluded); err != nil {
		return err
	}
	return p.rows.adopt(rowless, read)
}

// readSeries reads every series, from the hash and the disks' rows.
func (p *diskProbe) readSeries(fn func(*diskbpf.DiskDiskHistKey, *histogram.Series)) error {
	if p.rows.on {
		return histogram.ReadSeriesWithRows(p.reader, p.rows.rows, fn)
	}
	return histogram.ReadSeries(p.reader, fn)
}

// cgroupTag is the cgroup tag of a series with by_cgroup and what to do
// with it (cgroup.Tagger's verdicts); the excluded key, which only counts
// completions, is never written (Wait).
func (p *diskProbe) cgroupTag(k *diskbpf.DiskDiskHistKey) (string, cgroup.Verdict) {
	switch {
	case p.cgroups == nil:
		return "", cgroup.Write
	case k.Cgroup == cgroupUnknownID:
		return CgroupUnknown, cgroup.Write
	case k.Cgroup == cgroupExcludedID:
		return "", cgroup.Wait
	}
	return p.cgroups.Tag(k.Cgroup)
}

// tagEventCgroup tags a slow event with its series' cgroup (by_cgroup):
// "unknown" for a request completed without a kept cgroup, as its series;
// false when the series is dropped. (The kernel sends no event of an
// excluded request.)
func (p *diskProbe) tagEventCgroup(tags map[string]string, id uint64) bool {
	if p.cgroups != nil && id == cgroupUnknownID {
		tags[TagCgroup] = CgroupUnknown
		return true
	}
	return p.cgroups.TagEvent(tags, id)
}

// deleteSeries deletes the series idle for expire_idle_series and those of
// cgroups the filter excludes (the completions of both stay counted in
// retired), then frees the max_cgroups slots of cgroups left without a
// series.
func (p *diskProbe) deleteSeries(dropped []diskbpf.DiskDiskHistKey) error {
	expired := p.expiry.Sweep()
	hists := p.att.Collection.Maps[diskbpf.DiskMapDiskHists]
	if err := idle.Delete(hists, append(expired, dropped...)); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	for i := range expired {
		if row, ok := p.rows.rowOfKey(&expired[i]); ok {
			if err := p.rows.rows.Clear(row); err != nil {
				return fmt.Errorf("disk: %w", err)
			}
		}
	}
	if p.cgroups == nil {
		return nil
	}
	ids := make([]uint64, 0, len(expired))
	for _, k := range expired {
		if k.Cgroup != cgroupUnknownID && k.Cgroup != cgroupExcludedID { // hold no slot
			ids = append(ids, k.Cgroup)
		}
	}
	return p.cgroups.Finish(ids)
}

// wantDevice says whether the config's devices filter lets disk name through.
func (p *diskProbe) wantDevice(name string) bool { return p.cfg.wantDevice(name, p.pathDisks) }

// countCompletions adds one series' finished reads or writes to its disk.
func countCompletions(seen map[string][2]uint64, name string, op uint8, completions uint64) {
	for i, d := range statDirections {
		if d.op != op {
			continue
		}
		n := seen[name]
		n[i] += completions
		seen[name] = n
	}
}

// fallBack, under start_times = "auto", attaches the probe's own
// insert/issue hooks once a completion came without the kernel's issue
// timestamp: the block layer sets io_start_time_ns only on queues whose
// statistics are on (QUEUE_FLAG_STATS: writeback throttling or io.cost
// registered a callback) and never for passthrough commands. From then on
// each request is timed by the kernel's timestamps where it has them and by
// the probe's where not, on every disk.
func (p *diskProbe) fallBack() error {
	if !p.fallback {
		return nil
	}
	untimed := p.Status().Counters["untimed_completions"]
	if untimed == 0 {
		return nil
	}
	p.fallback = false
	if err := p.att.Collection.Variables[diskbpf.DiskVarStartsKept].Set(true); err != nil {
		return fmt.Errorf("disk: turning on probe start times: %w", err)
	}
	if err := p.att.AttachDeferred(); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	p.startTimes = "kernel+probe"
	p.log.Infof("disk: %d completions came without a kernel issue timestamp; start times now from kernel+probe", untimed)
	return nil
}

// warnUntimed says once when completions arrive without a start time the
// probe could use: the remedy is start_times = "probe".
func (p *diskProbe) warnUntimed() {
	if p.warnedUntimed || p.cfg.StartTimes != StartTimesKernel {
		return
	}
	if n := p.Status().Counters["untimed_completions"]; n > 0 {
		p.warnedUntimed = true
		p.log.Warnf("disk: %d completions carried no kernel issue timestamp and were not measured; set start_times = \"probe\" in [inputs.ebpf_latency.disk]", n)
	}
}

// emitSlowEvents writes the slow events since the last gather: tags as the
// request's series, fields who issued it (the task current at issue) and
// where it went.
func (p *diskProbe) emitSlowEvents(acc telegraf.Accumulator) {
	for _, e := range p.events.Take() {
		name := p.devices.name(e.Dev)
		if !p.wantDevice(name) {
			continue
		}
		tags := map[string]string{"device": name, "op": opName(uint8(e.What)), "stage": stageNames[(e.What>>8)%stages]}
		if !p.tagEventCgroup(tags, e.Cgroup) {
			continue
		}
		fields := map[string]any{"sector": e.Detail, "bytes": uint64(e.Size)}
		slowevent.Emit(acc, Name, &e, tags, fields)
	}
}

func (p *diskProbe) Status() probe.Status {
	st := p.events.Counters(probe.StatusOf(p.att, diskbpf.DiskMapDiskCounters, counterNames))
	if p.att != nil {
		st.Counters["unseen_completions"] = p.unseen
		st.StartTimes = p.startTimes
	}
	p.cgroups.Counters(st.Counters)
	return st
}

func (p *diskProbe) Stop() error {
	if p.att == nil {
		return nil
	}
	err := errors.Join(p.events.Close(), p.att.Close())
	p.att, p.events, p.cgroups = nil, nil, nil
	return err
}
