package bench

import (
	"bufio"
	_ "embed"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/runq"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// Variant names of the runq path.
const (
	RunqBaseline = "baseline: no programs"
	RunqFloor    = "floor: tp_btf sched_wakeup+sched_wakeup_new+sched_switch"
	// The hooks of start_times = "kernel", the default.
	RunqFloorStamps = "floor: tp_btf sched_switch+sched_migrate_task"
	RunqDefault     = `runq: default (tp_btf, start_times = "kernel", one series for all tasks)`
	RunqComms       = `runq: comms = ["bench-runq"]`
	RunqTaskStorage = `runq: start_times = "task_storage" (tp_btf, the first fallback)`
	RunqHash        = `runq: start_times = "hash" (tp_btf, the fallback's map)`
	RunqSlow        = `runq: slow_threshold = "1s" (events on, none sent)`
	RunqCgroup      = "runq: by_cgroup = true"
	RunqBpftrace    = "bpftrace runqlat (tracepoints)"
	runqComm        = "bench-runq"
	runqSwitch      = "sched_switch" // bpftrace's per-event program
	runqQuiet       = 10 * time.Second
)

// RunqPath passes a token between two threads on one CPU. The scheduler
// hooks fire for every task of the machine, so in-kernel time is divided by
// sched_switch runs (any task's context switch), as for the disk path; hook
// runs/event is sched_switch runs per switch-in of the workload's threads.
var RunqPath = Path{
	Name: "runq",
	Event: "one switch-in of a thread named bench-runq (two threads on one CPU pass a token through pipes); " +
		"in-kernel ns per sched_switch run, any task's",
	Scale:       10,
	Setup:       setupRunq,
	Alternative: RunqBpftrace,
	Targets: func(rows []*Row) []Target {
		// Its own floor (the hooks it attaches), and the three-hook floor
		// issue 9's table used, which the fallbacks still attach.
		return append(probeTargets(rows, RunqDefault, RunqFloorStamps, RunqBpftrace, limitVsFloor),
			ratioTarget(rows, RunqDefault+" vs "+RunqFloor, RunqDefault, RunqFloor, limitVsFloor))
	},
}

//go:embed testdata/runqbench.c
var runqBenchSource []byte

// bpftraceRunqlat is runqlat.bt from bpftrace's tools, on tracepoints.
const bpftraceRunqlat = `
tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new { @qtime[args->pid] = nsecs; }
tracepoint:sched:sched_switch
{
	if (args->prev_state == 0) { @qtime[args->prev_pid] = nsecs; }
	$ns = @qtime[args->next_pid];
	if ($ns) { @usecs = hist((nsecs - $ns) / 1000); }
	delete(@qtime[args->next_pid]);
}
END { clear(@qtime); }
`

// runqWorkload drives the helper: n messages, each needing one switch-in of
// a bench-runq thread. Interlopers on that CPU add switch-ins the probe
// times too; the kernel's per-thread count of switch-ins (schedstat
// pcount) says how many there were.
type runqWorkload struct {
	inbox      *os.File // write end of thread X's inbox
	out        *bufio.Reader
	pid        int
	tids       [2]string
	cpu, ioCPU int
}

func (w *runqWorkload) Run(t testing.TB, n int) Result {
	t.Helper()
	before := w.switchIns(t)
	var (
		res Result
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: this thread, kept off the helper's CPU so its
		// wakeups do not preempt the helper, exits with the goroutine.
		runtime.LockOSThread()
		if w.ioCPU >= 0 {
			var set unix.CPUSet
			set.Set(w.ioCPU)
			if err = unix.SchedSetaffinity(0, &set); err != nil {
				return
			}
		}
		msg := binary.NativeEndian.AppendUint32(nil, uint32(n))
		start := time.Now()
		if _, err = w.inbox.Write(msg); err != nil {
			return
		}
		var line string
		if line, err = w.out.ReadString('\n'); err != nil {
			return
		}
		if line != "done\n" {
			err = fmt.Errorf("helper said %q", line)
			return
		}
		res = Result{Ops: uint64(n), WallNs: float64(time.Since(start).Nanoseconds()) / float64(n)}
	}()
	<-done
	if err != nil {
		t.Fatalf("runq workload: %v", err)
	}
	res.Due = w.switchIns(t) - before
	if res.Due < res.Ops {
		t.Fatalf("runq workload: %d switch-ins for %d messages: each message needs one", res.Due, res.Ops)
	}
	return res
}

func (w *runqWorkload) Warm(t testing.TB) { w.Run(t, 16) }

// switchIns waits until both threads are off their run queue, so none can
// be switched in again until the next message, then sums their switch-ins.
func (w *runqWorkload) switchIns(t testing.TB) uint64 {
	t.Helper()
	deadline := time.Now().Add(runqQuiet)
	var sum uint64
	for _, tid := range w.tids {
		dir := fmt.Sprintf("/proc/%d/task/%s/", w.pid, tid)
		for {
			// wchan is "0" while the task is running or queued, and names
			// the function it sleeps in once it is dequeued.
			wchan, err := os.ReadFile(dir + "wchan")
			if err != nil {
				t.Fatal(err)
			}
			if string(wchan) != "0" && len(wchan) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("runq helper thread %s still runnable after %v", tid, runqQuiet)
			}
			time.Sleep(50 * time.Microsecond)
		}
		stat, err := os.ReadFile(dir + "schedstat")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(stat))
		if len(f) < 3 {
			t.Fatalf("%sschedstat: %q", dir, stat)
		}
		// Field 3 counts the times the task was switched in.
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	return sum
}

func setupRunq(t testing.TB) (Workload, []Variant) {
	bin := buildC(t, "runqbench", runqBenchSource, "-O2", "-pthread")
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	w := &runqWorkload{cpu: -1, ioCPU: -1}
	for cpu := 0; cpu < 1024; cpu++ {
		if set.IsSet(cpu) {
			w.ioCPU, w.cpu = w.cpu, cpu // the last allowed CPU and the one before
		}
	}
	r, inbox, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inbox.Close() })
	cmd := exec.Command(bin, strconv.Itoa(w.cpu), runqComm)
	// fd 3: X's inbox, fd 4: its write end, for Y.
	cmd.ExtraFiles = []*os.File{r, inbox}
	_, out, ready := startHelper(t, cmd)
	w.out = out
	r.Close()
	w.inbox, w.pid = inbox, cmd.Process.Pid
	f := strings.Fields(ready)
	if len(f) != 3 {
		t.Fatalf("runq helper: %q", ready)
	}
	w.tids = [2]string{f[1], f[2]}

	probeWith := func(comms []string, startTimes, slow string, byCgroup bool) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) {
			cfg := runq.DefaultConfig()
			cfg.Comms, cfg.StartTimes, cfg.Threshold, cfg.ByCgroup = comms, startTimes, slow, byCgroup
			var recorded func(probe.Probe) (uint64, error)
			if len(comms) > 0 {
				recorded = func(p probe.Probe) (uint64, error) {
					return seriesCount(p, runq.Measurement, map[string]string{runq.TagComm: runqComm})
				}
			}
			return startRegistered(t, runq.Name, cfg, "runq_", "runq_switch", recorded)
		}
	}
	return w, []Variant{
		{Name: RunqBaseline, Role: Baseline, Start: func(t testing.TB) (*Running, error) { return newRunning(t, nil), nil }},
		{Name: RunqFloor, Role: Floor, Start: func(t testing.TB) (*Running, error) {
			return startFloor(t, runqFloors, hooks.TPBTF, "sched_wakeup", "sched_wakeup_new", "sched_switch")
		}},
		// Without comms every task shares one series: the workload's
		// samples cannot be told apart, so nothing is counted.
		{Name: RunqFloorStamps, Role: Floor, Start: func(t testing.TB) (*Running, error) {
			return startFloor(t, runqFloors, hooks.TPBTF, "sched_switch", "sched_migrate_task")
		}},
		{Name: RunqDefault, Role: Probe, Records: 0, Floor: RunqFloorStamps, Start: probeWith(nil, taskstarts.Auto, "", false)},
		// The fallbacks: enqueue times of the probe's own, in task storage,
		// and in the hash older kernels and raw_tp get.
		{Name: RunqTaskStorage, Role: Probe, Records: 0, Floor: RunqFloor, Start: probeWith(nil, taskstarts.TaskStorage, "", false)},
		{Name: RunqHash, Role: Probe, Records: 0, Floor: RunqFloor, Start: probeWith(nil, taskstarts.Hash, "", false)},
		// Slow events on, with a threshold no switch-in reaches: the cost
		// of the check itself.
		{Name: RunqSlow, Role: Probe, Records: 0, Floor: RunqFloorStamps, Start: probeWith(nil, taskstarts.Auto, "1s", false)},
		// Every task's cgroup read at switch-in, one series per cgroup.
		{Name: RunqCgroup, Role: Probe, Records: 0, Floor: RunqFloorStamps, Start: probeWith(nil, taskstarts.Auto, "", true)},
		// With comms, one sample per switch-in of the named threads: the
		// kernel's count of them (Result.Due), exactly.
		{Name: RunqComms, Role: Probe, Records: 1, Floor: RunqFloorStamps, Start: probeWith([]string{runqComm}, taskstarts.Auto, "", false)},
		{Name: RunqBpftrace, Role: Alternative, Start: func(t testing.TB) (*Running, error) {
			return startBpftrace(t, bpftraceRunqlat, []string{"sched_wakeup", "sched_wakeup_ne", runqSwitch}, runqSwitch)
		}},
	}
}
