package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/influxdata/telegraf/testutil"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/syscall"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// Variant names of the syscall paths.
const (
	SysBaseline = "baseline: no programs"
	SysFloorBTF = "floor: tp_btf sys_enter+sys_exit"
	SysFloorRaw = "floor: raw_tp sys_enter+sys_exit"
	SysDefault  = "syscall: default (tp_btf)"
	SysRawTP    = `syscall: hook = "raw_tp"`
	SysComms    = `syscall: comms = ["bench-*"]`
	// SysCommExact is an exact name, the workload thread's.
	SysCommExact = `syscall: comms = ["bench-sys"]`
	// SysCommGlob is a glob beyond `prefix*` (a class and a star inside).
	SysCommGlob = `syscall: comms = ["b[a-e]nch*sys"]`
	SysLog2x4   = `syscall: buckets = "log2x4"`
	SysByCgroup = "syscall: by_cgroup = true"
	SysHash     = `syscall: start_times = "hash"`
	SysSlow     = `syscall: slow_threshold = "1s" (events on, none sent)`
	// SysCgroupsFilter keeps the workload's cgroup (the root's, where the
	// test runs): every timed syscall also pays the exclusion lookup.
	SysCgroupsFilter = `syscall: by_cgroup, cgroups = ["/"]`
	// SysCounted times the getppid loop itself: ebpf_exporter publishes the
	// same case (a getpid loop with a map update per call).
	SysCounted   = `syscall: syscalls = ["getppid"] (counted)`
	SysBpftrace  = "bpftrace per-syscall tracepoints"
	sysEventProg = "syscall_exit" // both flavours' exit programs
	// sysComm names the workload's thread, so its samples are told apart.
	sysComm = "bench-sys"
)

// The syscall probe's hooks fire on every syscall of the machine: what it
// adds to a syscall it times and to one it ignores are two figures.
var (
	SyscallWatchedPath = Path{
		Name:        "syscall (timed: pwrite64)",
		Event:       "4 KiB pwrite64 to a tmpfs file, one thread",
		Scale:       10,
		Setup:       func(t testing.TB) (Workload, []Variant) { return setupSyscall(t, true) },
		Alternative: SysBpftrace,
		Targets: func(rows []*Row) []Target {
			return probeTargets(rows, SysDefault, SysFloorBTF, SysBpftrace, limitVsFloor)
		},
	}
	SyscallUnwatchedPath = Path{
		Name:  "syscall (not timed: getppid)",
		Event: "getppid, one thread; per-syscall tracepoints never fire for it, so bpftrace has no row",
		Scale: 10,
		Setup: func(t testing.TB) (Workload, []Variant) { return setupSyscall(t, false) },
		Targets: func(rows []*Row) []Target { // bpftrace's programs never run here: the floor alone
			return []Target{ratioTarget(rows, SysDefault+" vs "+SysFloorBTF+", untimed getppid", SysDefault, SysFloorBTF, limitVsFloor)}
		},
	}
)

// bpftracePwrite is what a user would write to time pwrite64 per comm.
const bpftracePwrite = `
tracepoint:syscalls:sys_enter_pwrite64 { @start[tid] = nsecs; }
tracepoint:syscalls:sys_exit_pwrite64 /@start[tid]/ {
	@usecs[comm] = hist((nsecs - @start[tid]) / 1000);
	delete(@start[tid]);
}
END { clear(@start); }
`

// syscallWorkload issues one syscall in a loop from a thread of its own,
// named sysComm, that exits with the run.
type syscallWorkload struct {
	call func() error
}

func (w *syscallWorkload) Run(t testing.TB, n int) Result {
	t.Helper()
	var (
		res Result
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the renamed thread exits with this goroutine.
		runtime.LockOSThread()
		if err = setThreadComm(sysComm); err != nil {
			return
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			if err = w.call(); err != nil {
				return
			}
		}
		res = Result{Ops: uint64(n), WallNs: float64(time.Since(start).Nanoseconds()) / float64(n)}
	}()
	<-done
	if err != nil {
		t.Fatalf("syscall workload: %v", err)
	}
	return res
}

func (w *syscallWorkload) Warm(t testing.TB) { w.Run(t, 16) }

func setThreadComm(name string) error {
	b := append([]byte(name), 0)
	return unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}

func setupSyscall(t testing.TB, timed bool) (Workload, []Variant) {
	w := &syscallWorkload{call: func() error { unix.Getppid(); return nil }}
	if timed {
		f, err := os.Create(filepath.Join(testenv.TmpfsDir(t), "pwrite"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		buf := make([]byte, 4096)
		fd := int(f.Fd())
		w.call = func() error {
			_, err := unix.Pwrite(fd, buf, 0)
			return err
		}
	}
	var records uint64
	if timed {
		records = 1
	}
	floor := func(kind hooks.Kind) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) { return startFloor(t, sysFloors, kind, "sys_enter", "sys_exit") }
	}
	probeWith := func(edit func(*syscall.Config)) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) {
			cfg := syscall.DefaultConfig()
			edit(cfg)
			return startSyscallProbe(t, cfg)
		}
	}
	variants := []Variant{
		{Name: SysBaseline, Role: Baseline, Start: func(t testing.TB) (*Running, error) { return newRunning(t, nil), nil }},
		{Name: SysFloorBTF, Role: Floor, Start: floor(hooks.TPBTF)},
		{Name: SysFloorRaw, Role: Floor, Start: floor(hooks.RawTP)},
		{Name: SysDefault, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(*syscall.Config) {})},
		{Name: SysRawTP, Role: Probe, Records: records, Floor: SysFloorRaw, Start: probeWith(func(c *syscall.Config) { c.Hook = syscall.HookRawTP })},
		{Name: SysComms, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) { c.Comms = []string{"bench-*"} })},
		{Name: SysCommExact, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) { c.Comms = []string{"bench-sys"} })},
		{Name: SysCommGlob, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) { c.Comms = []string{"b[a-e]nch*sys"} })},
		{Name: SysLog2x4, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) { c.Buckets = histogram.SchemeLog2x4 })},
		{Name: SysHash, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) { c.StartTimes = taskstarts.Hash })},
		{Name: SysByCgroup, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) { c.ByCgroup = true })},
		{Name: SysSlow, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) { c.Threshold = "1s" })},
		{Name: SysCgroupsFilter, Role: Probe, Records: records, Floor: SysFloorBTF, Start: probeWith(func(c *syscall.Config) {
			c.ByCgroup, c.Cgroups = true, []string{"/"}
		})},
	}
	if !timed {
		variants = append(variants, Variant{Name: SysCounted, Role: Probe, Records: 1, Floor: SysFloorBTF,
			Start: probeWith(func(c *syscall.Config) { c.Syscalls = []string{"getppid"} })})
	}
	if timed {
		variants = append(variants, Variant{Name: SysBpftrace, Role: Alternative, Start: func(t testing.TB) (*Running, error) {
			return startBpftrace(t, bpftracePwrite, []string{"sys_enter_pwrit", "sys_exit_pwrite"}, "sys_exit_pwrite")
		}})
	}
	return w, variants
}

// startSyscallProbe starts the syscall probe through the registry,
// counting the workload thread's samples.
func startSyscallProbe(t testing.TB, cfg *syscall.Config) (*Running, error) {
	return startRegistered(t, syscall.Name, cfg, "syscall_", sysEventProg,
		func(p probe.Probe) (uint64, error) { return commSamples(p, sysComm) })
}

// commSamples counts the samples the syscall probe holds for comm, over
// every syscall.
func commSamples(p probe.Probe, comm string) (uint64, error) {
	var acc testutil.Accumulator
	if err := p.Gather(&acc); err != nil {
		return 0, err
	}
	var n uint64
	for _, m := range acc.GetTelegrafMetrics() {
		tags := m.Tags()
		if m.Name() != syscall.Measurement || tags[syscall.TagComm] != comm {
			continue
		}
		if _, isBucket := tags[histogram.TagBound]; isBucket {
			continue
		}
		if c, ok := m.GetField(histogram.FieldCount); ok {
			n += c.(uint64)
		}
	}
	return n, nil
}
