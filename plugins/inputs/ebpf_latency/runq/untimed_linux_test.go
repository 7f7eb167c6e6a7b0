package runq

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A task preempted while already going to sleep stays queued, and the
// scheduler does not stamp it (sched_info_depart stamps a running task
// only), so with start_times = "kernel" its next switch-in is counted in
// untimed_switches, not timed. Even without kernel preemption
// (preempt=none) one path does this every time: wait4 sets the reaper
// TASK_INTERRUPTIBLE, then reaping a child kills the child's /proc
// dentries one by one, each a cond_resched(). The reaper here reaps
// children with many /proc/PID/fd dentries while a SCHED_FIFO ticker on its
// CPU asks for the CPU every 200 us. The kernel's own counts of the
// reaper's switch-ins (/proc/PID/status) and of its timed arrivals
// (schedstat pcount, which counts only switch-ins with a stamp) give its
// untimed switch-ins exactly; the probe counts those of every task, so at
// least as many. The probe's own enqueue times (the other flavours) time
// every one of them: enqueued at the preemption.
func TestPreemptedWhileGoingToSleepIsUntimed(t *testing.T) {
	testenv.RequirePrivileged(t)
	const children, fds = 3, 1000
	eachFlavour(t, func(t *testing.T, fl flavour) {
		cpu := testCPU(t)
		comm := uniqueComm("ebpfl-reap")
		reaper := startNamed(t, comm, nil, "reap", strconv.Itoa(cpu), strconv.Itoa(children), strconv.Itoa(fds))
		cfg := DefaultConfig()
		cfg.Comms = []string{comm}
		p := startProbe(t, fl.pin(cfg))

		switchIns0 := reaper.switchIns(t)
		_, arrivals0 := schedInfo(t, reaper.Pid)
		untimed0 := untimed(p)
		reaper.request(t, "reap")
		switchIns := reaper.switchIns(t) - switchIns0
		_, arrivals1 := schedInfo(t, reaper.Pid)
		arrivals := arrivals1 - arrivals0
		untimedIn := untimed(p) - untimed0
		s, ok := findSeries(gather(t, p), map[string]string{TagComm: comm})
		require.True(t, ok)
		t.Logf("reaper %d: %d switch-ins, %d timed by the scheduler (%d untimed); probe: %d samples, untimed +%d (all tasks)",
			reaper.Pid, switchIns, arrivals, switchIns-arrivals, s.Count, untimedIn)
		require.GreaterOrEqual(t, switchIns, arrivals, "schedstat counts switch-ins only")
		require.GreaterOrEqual(t, switchIns-arrivals, uint64(children),
			"the reaper preempted while going to sleep, unstamped, in each reap")
		if fl.startTimes != StartTimesKernel {
			requireSwitchIns(t, p, s, switchIns, untimedIn)
			return
		}
		require.LessOrEqual(t, s.Count, arrivals, "a sample per stamped switch-in only")
		require.LessOrEqual(t, arrivals-s.Count, uint64(1), "a sample per stamped switch-in (the one unreported switch allowed)")
		require.GreaterOrEqual(t, untimedIn, switchIns-arrivals, "each unstamped switch-in of the reaper counted untimed")
	})
}
