package runq

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

const sleeperName = "ebpfl-sleeper"

// requireBetween checks a series holds one sample per loop round of the
// helper (it is switched in after every sleep or spin), bar switch-ins the
// probe counted as untimed (a rare lost enqueue time: see README), and no
// more than the switch-outs the helper counted while named so (each
// switch-in follows one). The one switch sched_switch itself may not report
// (see requireSwitchIns) is allowed here too, and logged when used.
func requireBetween(t *testing.T, p *runqProbe, s series, rounds int, switches uint64) {
	t.Helper()
	untimed := p.Status().Counters["untimed_switches"]
	t.Logf("rounds %d, switch-outs %d, samples %d (untimed switch-ins, all tasks: %d), sum %.6fs, max %.6fs",
		rounds, switches, s.Count, untimed, s.Sum, s.Max)
	if s.Count+untimed < uint64(rounds) {
		t.Logf("%d rounds without a sample or an untimed switch-in", uint64(rounds)-s.Count-untimed)
	}
	require.GreaterOrEqual(t, s.Count+untimed+1, uint64(rounds), "a sample per round, or an untimed switch-in")
	require.LessOrEqual(t, s.Count, switches, "no more samples than switch-outs")
	// The scheduler's stamps time a wakeup onto an idle CPU from a clock it
	// did not update since the enqueue, so such waits often read 0 and a
	// series of them may sum to 0 (TestKernelStampsAgreeWithTheSchedulersAccount
	// checks those sums against the kernel's run_delay).
	if p.Status().StartTimes != StartTimesKernel {
		require.Positive(t, s.Sum)
	}
}

// requireSwitchIns checks a series against the scheduler's own count of the
// task's switch-ins in the window, read independently of the probe: one
// sample each (the +Inf bucket too), bar switch-ins counted as untimed in
// the window (any task's, so an allowance, not a match).
//
// One more allowance, measured, not understood: under load the kernel's
// context-switch counters (and schedstat's pcount, which agrees with them)
// now and then show one switch more in a window than sched_switch reports:
// bpftrace on the classic tracepoint, run beside the probe, missed the same
// switch, and so did ftrace's own sched_switch event (no BPF involved: 5028
// events for 5030 counted switches over 25 windows of 200 sleeps). Never
// more than one per window was seen (about 1 window in 10 with both CPUs
// busy). The test allows that one and says when it used it.
func requireSwitchIns(t *testing.T, p *runqProbe, s series, switchIns, untimed uint64) {
	t.Helper()
	for field, got := range map[string]uint64{"seconds_count": s.Count, "+Inf bucket": s.Buckets["+Inf"]} {
		require.LessOrEqual(t, got, switchIns, "%s: no more samples than switch-ins", field)
		if missing := switchIns - got; missing > 0 {
			t.Logf("%s: %d switch-ins without a sample; %d untimed switch-ins (all tasks) in the window", field, missing, untimed)
			require.LessOrEqual(t, missing, untimed+1, "%s: a sample per switch-in the scheduler counted (counters %v)", field, p.Status().Counters)
		}
	}
}

// untimed is the probe's count of switch-ins without an enqueue time.
func untimed(p *runqProbe) uint64 { return p.Status().Counters["untimed_switches"] }

// A sleeper beside a CPU hog waits for the CPU after each of its wakeups,
// or is preempted by the hog and waits again: every switch-in, whichever
// way the task was queued, is exactly one sample.
func TestSleeperBesideHogThroughEveryFlavour(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 200
	for _, fl := range everyFlavour {
		t.Run(fl.String(), func(t *testing.T) {
			cpu := testCPU(t)
			comm := uniqueComm("ebpfl-slp")
			srv := startServer(t, comm, cpu, 1000)
			cfg := DefaultConfig()
			cfg.Comms = []string{comm}
			p := startProbe(t, fl.pin(cfg))
			startHog(t, cpu)

			before, untimed0 := srv.switchIns(t), untimed(p)
			srv.sleep(t, rounds)
			switchIns := srv.switchIns(t) - before
			acc := gather(t, p)
			s, ok := findSeries(acc, map[string]string{TagComm: comm})
			require.True(t, ok, "no series for comm %s", comm)
			t.Logf("pid %d: %d sleeps, %d switch-ins, sum %.6fs, max %.6fs", srv.Pid, rounds, switchIns, s.Sum, s.Max)
			require.GreaterOrEqual(t, switchIns, uint64(rounds), "a wakeup per sleep")
			requireSwitchIns(t, p, s, switchIns, untimed(p)-untimed0)
			require.Equal(t, map[string]bool{comm: true}, commsSeen(acc), "only the filtered comm")
			require.Zero(t, p.Status().Counters["comm_folded"])
			require.Zero(t, p.Status().Counters["hist_full"])
		})
	}
}

// A higher-priority SCHED_FIFO child spinning 20 ms keeps the (SCHED_FIFO)
// helper off its CPU each time: each such wait is above 16.384 ms. Wall
// clock bounds only from below; above, only the loose testenv.Ceiling.
func TestKnownDelayLandsInItsBucket(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 5
	delay := 20 * time.Millisecond
	for _, fl := range everyFlavour {
		t.Run(fl.String(), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Comms = []string{"ebpfl-blocked"}
			p := startProbe(t, fl.pin(cfg))

			switches := runHelper(t, "block", testCPU(t), rounds, "20", "ebpfl-blocked")
			s, ok := findSeries(gather(t, p), map[string]string{TagComm: "ebpfl-blocked"})
			require.True(t, ok)
			requireBetween(t, p, s, rounds, switches)
			// Only the child's spins keep a SCHED_FIFO task waiting 16 ms or more.
			long := s.Count - s.Buckets["0.016384"]
			untimed := p.Status().Counters["untimed_switches"]
			require.LessOrEqual(t, long, uint64(rounds), "waits above 16.384 ms: one per spin")
			require.GreaterOrEqual(t, long+untimed, uint64(rounds), "every spin above 16.384 ms, or untimed")
			require.Equal(t, s.Count, s.Buckets[testenv.Ceiling], "no wait above le=%s", testenv.Ceiling)
			require.GreaterOrEqual(t, s.Max, delay.Seconds())
			require.GreaterOrEqual(t, s.Sum, float64(long)*delay.Seconds())
		})
	}
}

// A filter on another name leaves the sleeper, and everything else, out.
func TestFilteredCommNotCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		cpu := testCPU(t)
		cfg := DefaultConfig()
		cfg.Comms = []string{"ebpfl-nomatch"}
		p := startProbe(t, fl.pin(cfg))
		startHog(t, cpu)
		runHelper(t, "sleep", cpu, 50, "1000", sleeperName)
		acc := gather(t, p)
		require.Empty(t, commsSeen(acc), "no task is named ebpfl-nomatch")
		require.Zero(t, p.Status().Counters["comm_folded"])
	})
}

// Without comms, every task lands in one series without a comm tag.
func TestNoCommsOneSeries(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		const rounds = 50
		cpu := testCPU(t)
		p := startProbe(t, fl.pin(DefaultConfig()))
		startHog(t, cpu)
		runHelper(t, "sleep", cpu, rounds, "1000", sleeperName)
		acc := gather(t, p)
		require.Equal(t, map[string]bool{"": true}, commsSeen(acc))
		s, ok := findSeries(acc, map[string]string{})
		require.True(t, ok)
		require.GreaterOrEqual(t, s.Count, uint64(rounds), "the sleeper's samples are among all tasks'")
	})
}

// Past max_comms, matching comms fold into comm="other", each fold counted:
// both the series and comm_folded match the folded task's switch-ins as the
// scheduler counted them.
func TestFoldsPastMaxComms(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		const roundsA, roundsB = 30, 40
		cpu := testCPU(t)
		tag := uniqueComm("x")[2:] // four hex digits of this run
		commA, commB := "ebpf-fold-a"+tag, "ebpf-fold-b"+tag
		a, b := startServer(t, commA, cpu, 1000), startServer(t, commB, cpu, 1000)
		cfg := DefaultConfig()
		cfg.Comms, cfg.MaxComms = []string{"nomatch", "ebpf-f?ld-[a-c]" + tag}, 1
		p := startProbe(t, fl.pin(cfg))

		quiet := gather(t, p)
		require.Empty(t, commsSeen(quiet), "an empty \"other\" is not emitted")

		a0, untimedA := a.switchIns(t), untimed(p)
		a.sleep(t, roundsA) // first: takes the one comm slot
		switchInsA := a.switchIns(t) - a0
		b0, untimedB := b.switchIns(t), untimed(p)
		untimedA = untimedB - untimedA
		b.sleep(t, roundsB)
		switchInsB := b.switchIns(t) - b0
		untimedB = untimed(p) - untimedB
		acc := gather(t, p)
		require.Equal(t, map[string]bool{commA: true, CommOther: true}, commsSeen(acc))
		sa, _ := findSeries(acc, map[string]string{TagComm: commA})
		requireSwitchIns(t, p, sa, switchInsA, untimedA)
		other, _ := findSeries(acc, map[string]string{TagComm: CommOther})
		requireSwitchIns(t, p, other, switchInsB, untimedB)
		folded := p.Status().Counters["comm_folded"]
		require.LessOrEqual(t, folded, switchInsB, "no more folds than the folded task's switch-ins")
		require.LessOrEqual(t, switchInsB-folded, untimedB+1, "a fold per switch-in of the folded task")
	})
}

// Start and Stop leave no program or map behind, however often they run.
func TestStartStopLeavesNothing(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, fl := range append(everyFlavour, everyFlavour[0]) {
		cfg := DefaultConfig()
		cfg.Comms = []string{"ebpfl-*"}
		p := newProbe(fl.pin(cfg), testutil.Logger{}).(*runqProbe)
		require.NoError(t, p.Start())
		objs := testenv.ObjectsOf(t, p.att.Collection)
		if fl.startTimes == StartTimesKernel {
			require.Len(t, objs.Programs, 2, "switch, migrate")
		} else {
			require.Len(t, objs.Programs, 3, "switch, wakeup, wakeup_new")
		}
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "second Stop is a no-op")
		testenv.RequireFreed(t, objs)
	}
}
