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
// switch-in follows one).
func requireBetween(t *testing.T, p *runqProbe, s series, rounds int, switches uint64) {
	t.Helper()
	untimed := p.Status().Counters["untimed_switches"]
	t.Logf("rounds %d, switch-outs %d, samples %d (untimed switch-ins, all tasks: %d), sum %.6fs, max %.6fs",
		rounds, switches, s.Count, untimed, s.Sum, s.Max)
	require.GreaterOrEqual(t, s.Count+untimed, uint64(rounds), "a sample per round, or an untimed switch-in")
	require.LessOrEqual(t, s.Count, switches, "no more samples than switch-outs")
	require.Equal(t, s.Count, s.Buckets["+Inf"], "+Inf bucket equals count")
	require.Positive(t, s.Sum)
}

// A sleeper beside a CPU hog waits for the CPU after each of its wakeups.
func TestSleeperBesideHogThroughEveryHook(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 200
	for _, hook := range []string{"tp_btf", "raw_tp"} {
		t.Run(hook, func(t *testing.T) {
			cpu := testCPU(t)
			cfg := DefaultConfig()
			cfg.Comms, cfg.Hook = []string{sleeperName}, hook
			p := startProbe(t, cfg)
			require.Equal(t, hook, p.Status().Hook)
			startHog(t, cpu)

			switches := runHelper(t, "sleep", cpu, rounds, "1000", sleeperName)
			acc := gather(t, p)
			s, ok := findSeries(acc, map[string]string{TagComm: sleeperName})
			require.True(t, ok, "no series for comm %s", sleeperName)
			requireBetween(t, p, s, rounds, switches)
			require.Equal(t, map[string]bool{sleeperName: true}, commsSeen(acc), "only the filtered comm")
			require.Zero(t, p.Status().Counters["comm_folded"])
			require.Zero(t, p.Status().Counters["hist_full"])
		})
	}
}

// A higher-priority SCHED_FIFO child spinning 20 ms keeps the (SCHED_FIFO)
// helper off its CPU each time: each wait lands in (16.384 ms, 32.768 ms].
func TestKnownDelayLandsInItsBucket(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 5
	delay := 20 * time.Millisecond
	for _, hook := range []string{"tp_btf", "raw_tp"} {
		t.Run(hook, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Comms, cfg.Hook = []string{"ebpfl-blocked"}, hook
			p := startProbe(t, cfg)

			switches := runHelper(t, "block", testCPU(t), rounds, "20", "ebpfl-blocked")
			s, ok := findSeries(gather(t, p), map[string]string{TagComm: "ebpfl-blocked"})
			require.True(t, ok)
			requireBetween(t, p, s, rounds, switches)
			// Only the child's spins keep the helper waiting 16 ms or more.
			spins := s.Buckets["0.032768"] - s.Buckets["0.016384"]
			untimed := p.Status().Counters["untimed_switches"]
			require.LessOrEqual(t, spins, uint64(rounds), "waits in (16.384 ms, 32.768 ms]")
			require.GreaterOrEqual(t, spins+untimed, uint64(rounds), "every spin in (16.384 ms, 32.768 ms], or untimed")
			require.Equal(t, s.Buckets["0.032768"], s.Count, "no wait above 32.768 ms")
			require.GreaterOrEqual(t, s.Max, delay.Seconds())
			require.GreaterOrEqual(t, s.Sum, float64(spins)*delay.Seconds())
		})
	}
}

// A filter on another name leaves the sleeper, and everything else, out.
func TestFilteredCommNotCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	cpu := testCPU(t)
	cfg := DefaultConfig()
	cfg.Comms = []string{"ebpfl-nomatch"}
	p := startProbe(t, cfg)
	startHog(t, cpu)
	runHelper(t, "sleep", cpu, 50, "1000", sleeperName)
	acc := gather(t, p)
	require.Empty(t, commsSeen(acc), "no task is named ebpfl-nomatch")
	require.Zero(t, p.Status().Counters["comm_folded"])
}

// Without comms, every task lands in one series without a comm tag.
func TestNoCommsOneSeries(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 50
	cpu := testCPU(t)
	p := startProbe(t, DefaultConfig())
	startHog(t, cpu)
	runHelper(t, "sleep", cpu, rounds, "1000", sleeperName)
	acc := gather(t, p)
	require.Equal(t, map[string]bool{"": true}, commsSeen(acc))
	s, ok := findSeries(acc, map[string]string{})
	require.True(t, ok)
	require.GreaterOrEqual(t, s.Count, uint64(rounds), "the sleeper's samples are among all tasks'")
	require.Equal(t, s.Count, s.Buckets["+Inf"])
}

// Past max_comms, matching comms fold into comm="other", counted.
func TestFoldsPastMaxComms(t *testing.T) {
	testenv.RequirePrivileged(t)
	const roundsA, roundsB = 30, 40
	cpu := testCPU(t)
	cfg := DefaultConfig()
	cfg.Comms, cfg.MaxComms = []string{"nomatch", "ebpfl-f?ld-[a-c]*"}, 1
	p := startProbe(t, cfg)

	quiet := gather(t, p)
	require.Empty(t, commsSeen(quiet), "an empty \"other\" is not emitted")

	switchesA := runHelper(t, "sleep", cpu, roundsA, "1000", "ebpfl-fold-a")
	switchesB := runHelper(t, "sleep", cpu, roundsB, "1000", "ebpfl-fold-b")
	acc := gather(t, p)
	require.Equal(t, map[string]bool{"ebpfl-fold-a": true, CommOther: true}, commsSeen(acc))
	a, _ := findSeries(acc, map[string]string{TagComm: "ebpfl-fold-a"})
	requireBetween(t, p, a, roundsA, switchesA)
	other, _ := findSeries(acc, map[string]string{TagComm: CommOther})
	requireBetween(t, p, other, roundsB, switchesB)
	require.Equal(t, other.Count, p.Status().Counters["comm_folded"])
}

// Start and Stop leave no program or map behind, however often they run.
func TestStartStopLeavesNothing(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, hook := range []string{"tp_btf", "raw_tp", "tp_btf"} {
		cfg := DefaultConfig()
		cfg.Hook, cfg.Comms = hook, []string{"ebpfl-*"}
		p := newProbe(cfg, testutil.Logger{}).(*runqProbe)
		require.NoError(t, p.Start())
		objs := testenv.ObjectsOf(t, p.att.Collection)
		require.Len(t, objs.Programs, 3, "switch, wakeup, wakeup_new")
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "second Stop is a no-op")
		testenv.RequireFreed(t, objs)
	}
}
