package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/influxdata/telegraf/testutil"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/disk"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Variant names the report and the targets refer to.
const (
	DiskBaseline      = "baseline: no programs"
	DiskFloorBTF      = "floor: tp_btf complete"
	DiskFloorBTF3     = "floor: tp_btf insert+issue+complete"
	DiskFloorRaw      = "floor: raw_tp complete"
	DiskFloorTP3      = "floor: tracepoint insert+issue+complete"
	DiskDefault       = "disk: default (tp_btf, kernel start times)"
	DiskHashSeries    = "disk: default, series in the per-CPU hash (before disk rows)"
	DiskFlags         = "disk: flags = true"
	DiskLog2x4        = `disk: buckets = "log2x4"`
	DiskProbeTimes    = `disk: start_times = "probe"`
	DiskKernelTimes   = `disk: start_times = "kernel" (no auto fallback loaded)`
	DiskRawTP         = `disk: hook = "raw_tp"`
	DiskTracepoint    = `disk: hook = "tracepoint"`
	DiskByCgroup      = "disk: by_cgroup = true"
	DiskCgroupsFilter = `disk: by_cgroup, cgroups = ["*"]`
	DiskDevices       = "disk: devices = [the loop device] (rows: the entry lookup says which disks are out)"
	DiskCgroupDevices = "disk: by_cgroup, devices = [the loop device] (hash: one disk_excluded lookup)"
	DiskSlow          = `disk: slow_threshold = "1s" (events on, none sent)`
	DiskBpftrace      = "bpftrace biolatency (tracepoints)"
	diskImageBytes    = 128 << 20 // 32768 distinct 4 KiB blocks for fio
	diskBpftraceEvent = "block_rq_comple"
)

// DiskPath reads 4 KiB blocks with O_DIRECT from a loop device over tmpfs:
// a fast device, so the probe's share of each I/O is as large as it gets.
var DiskPath = Path{
	Name:        "disk",
	Event:       "4 KiB O_DIRECT random read (fio psync, loop device over tmpfs)",
	Scale:       1,
	Setup:       setupDisk,
	Alternative: DiskBpftrace,
	Targets: func(rows []*Row) []Target {
		return probeTargets(rows, DiskDefault, DiskFloorBTF, DiskBpftrace, limitDiskVsFloor)
	},
}

type diskWorkload struct{ dev *testenv.LoopDevice }

func (w *diskWorkload) Run(t testing.TB, n int) Result {
	before := readsCompleted(t, w.dev.Name)
	res := FioJob{Device: w.dev.Path, Size: diskImageBytes, N: n}.Run(t)
	res.Counted = readsCompleted(t, w.dev.Name) - before
	return res
}

// readsCompleted is the block layer's count of reads the device completed
// (field 1 of /sys/block/<dev>/stat).
func readsCompleted(t testing.TB, name string) uint64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/sys/block", name, "stat"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		t.Fatalf("/sys/block/%s/stat is empty", name)
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		t.Fatalf("/sys/block/%s/stat: %v", name, err)
	}
	return n
}

func (w *diskWorkload) Warm(t testing.TB) { testenv.IssueDirect(t, w.dev.Path, false, 4, 0) }

func setupDisk(t testing.TB) (Workload, []Variant) {
	img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, diskImageBytes); err != nil {
		t.Fatal(err)
	}
	w := &diskWorkload{dev: testenv.NewLoopDevice(t, img)}

	floor := func(kind hooks.Kind, events ...string) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) { return startFloor(t, diskFloors, kind, events...) }
	}
	probeWith := func(edit func(*disk.Config)) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) {
			cfg := disk.DefaultConfig()
			edit(cfg)
			return startDiskProbe(t, cfg, w.dev.Name)
		}
	}
	onlyTheLoop := func(c *disk.Config) { c.Devices = []string{w.dev.Name} }
	all := []string{"block_rq_insert", "block_rq_issue", "block_rq_complete"}
	return w, []Variant{
		{Name: DiskBaseline, Role: Baseline, Start: func(t testing.TB) (*Running, error) { return newRunning(t, nil), nil }},
		{Name: DiskFloorBTF, Role: Floor, Start: floor(hooks.TPBTF, "block_rq_complete")},
		{Name: DiskFloorBTF3, Role: Floor, Start: floor(hooks.TPBTF, all...)},
		{Name: DiskFloorRaw, Role: Floor, Start: floor(hooks.RawTP, "block_rq_complete")},
		{Name: DiskFloorTP3, Role: Floor, Start: floor(hooks.Tracepoint, all...)},
		{Name: DiskDefault, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(*disk.Config) {})},
		{Name: DiskHashSeries, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) { c.HashSeries = true })},
		{Name: DiskFlags, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) { c.Flags = true })},
		{Name: DiskLog2x4, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) { c.Buckets = histogram.SchemeLog2x4 })},
		{Name: DiskKernelTimes, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) { c.StartTimes = disk.StartTimesKernel })},
		{Name: DiskProbeTimes, Role: Probe, Records: 1, Floor: DiskFloorBTF3, Start: probeWith(func(c *disk.Config) { c.StartTimes = disk.StartTimesProbe })},
		{Name: DiskRawTP, Role: Probe, Records: 1, Floor: DiskFloorRaw, Start: probeWith(func(c *disk.Config) { c.Hook = "raw_tp" })},
		{Name: DiskTracepoint, Role: Probe, Records: 1, Floor: DiskFloorTP3, Start: probeWith(func(c *disk.Config) { c.Hook = "tracepoint" })},
		{Name: DiskByCgroup, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) { c.ByCgroup = true })},
		// Every cgroup kept, so every read is measured, behind one exclusion lookup.
		{Name: DiskCgroupsFilter, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) {
			c.ByCgroup, c.Cgroups = true, []string{"*"}
		})},
		// Slow events on, with a threshold no read reaches: the cost of the
		// check on every request (an event's own cost is per slow request).
		{Name: DiskSlow, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) { c.Threshold = "1s" })},
		// The devices filter, applied in the kernel: against DiskDefault and
		// DiskByCgroup, which run without one.
		{Name: DiskDevices, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(onlyTheLoop)},
		{Name: DiskCgroupDevices, Role: Probe, Records: 1, Floor: DiskFloorBTF, Start: probeWith(func(c *disk.Config) {
			onlyTheLoop(c)
			c.ByCgroup = true
		})},
		{Name: DiskBpftrace, Role: Alternative, Start: func(t testing.TB) (*Running, error) {
			return startBpftrace(t, bpftraceBiolatency, []string{"block_rq_issue", diskBpftraceEvent}, diskBpftraceEvent)
		}},
	}
}

// startDiskProbe starts the disk probe through the registry, as the plugin
// does, counting the workload device's service-stage reads.
func startDiskProbe(t testing.TB, cfg *disk.Config, device string) (*Running, error) {
	// No devices filter unless the variant sets one (it applies in the
	// kernel): the workload device's lines are picked at gather.
	return startRegistered(t, disk.Name, cfg, "disk_", "disk_complete",
		func(p probe.Probe) (uint64, error) { return diskReads(p, device) })
}

// diskReads is the service-stage read count the probe holds for device,
// over every flags value.
func diskReads(p probe.Probe, device string) (uint64, error) {
	var acc testutil.Accumulator
	if err := p.Gather(&acc); err != nil {
		return 0, err
	}
	var n uint64
	for _, m := range acc.GetTelegrafMetrics() {
		tags := m.Tags()
		if m.Name() != disk.Measurement || tags["device"] != device || tags["op"] != "read" ||
			tags["stage"] != disk.StageService {
			continue
		}
		if _, isBucket := tags[histogram.TagBound]; isBucket {
			continue
		}
		if c, ok := m.GetField(histogram.FieldCount); ok {
			n += c.(uint64)
		}
	}
	return n, nil // 0: no read yet
}
