package runq

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// A SCHED_FIFO child spinning 30 ms keeps the blocked helper waiting each
// round (slow); a sleeper with the CPU to itself waits microseconds (fast).
// Exactly the blocked helper's waits are events, with its pid and comm, and
// each is in the histogram too.
func TestSlowEventsAreExactlyTheSlowWaits(t *testing.T) {
	testenv.RequirePrivileged(t)
	const slowRounds, fastRounds = 5, 50
	spin := 30 * time.Millisecond
	for _, fl := range everyFlavour {
		t.Run(fl.String(), func(t *testing.T) {
			slowComm, fastComm := uniqueComm("ebpfl-slow"), uniqueComm("ebpfl-fast")
			cfg := DefaultConfig()
			cfg.Comms, cfg.Threshold = []string{slowComm, fastComm}, "15ms"
			p := startProbe(t, fl.pin(cfg))
			cpu := testCPU(t)

			fastSwitches := runHelper(t, "sleep", cpu, fastRounds, "1000", fastComm)
			slowSwitches, pid := runHelperPid(t, "block", cpu, slowRounds, strconv.Itoa(int(spin.Milliseconds())), slowComm)
			acc := gather(t, p)

			slow, ok := findSeries(acc, map[string]string{TagComm: slowComm})
			require.True(t, ok)
			requireBetween(t, p, slow, slowRounds, slowSwitches)
			fast, ok := findSeries(acc, map[string]string{TagComm: fastComm})
			require.True(t, ok)
			requireBetween(t, p, fast, fastRounds, fastSwitches)
			require.Equal(t, fast.Count, fast.Buckets["0.008192"], "the fast waits are fast")

			events := testenv.SlowEvents(acc)
			require.Len(t, events, int(slow.Count), "one event per slow wait, none for the fast ones")
			require.GreaterOrEqual(t, len(events), slowRounds-1, "every round's wait (bar the one switch sched_switch may miss)")
			for _, e := range events {
				require.Equal(t, map[string]string{"probe": Name}, e.Tags())
				f := e.Fields()
				require.Equal(t, uint64(pid), f["pid"])
				require.Equal(t, uint64(pid), f["tid"])
				require.Equal(t, slowComm, f["comm"])
				require.GreaterOrEqual(t, f["seconds"], spin.Seconds())
			}
			require.Zero(t, p.Status().Counters[slowevent.CounterDropped])
		})
	}
}

// Over slow_events_per_second, the slow waits not sent are counted exactly.
func TestSlowWaitsOverTheRateAreCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		const rounds, perSecond = 12, 2
		comm := uniqueComm("ebpfl-rate")
		cfg := DefaultConfig()
		cfg.Comms, cfg.Threshold, cfg.PerSecond = []string{comm}, "5ms", perSecond
		p := startProbe(t, fl.pin(cfg))

		began := time.Now()
		switches := runHelper(t, "block", testCPU(t), rounds, "10", comm)
		elapsed := time.Since(began)
		acc := gather(t, p)

		s, ok := findSeries(acc, map[string]string{TagComm: comm})
		require.True(t, ok)
		requireBetween(t, p, s, rounds, switches)
		sent := len(testenv.SlowEvents(acc))
		require.Equal(t, s.Count-uint64(sent), p.Status().Counters[slowevent.CounterDropped], "every slow wait is sent or counted")
		require.GreaterOrEqual(t, sent, perSecond, "the burst is sent")
		require.LessOrEqual(t, sent, perSecond+int(elapsed.Seconds()*perSecond)+1)
	})
}

// Without comms (one series for all tasks, in the per-CPU array) the slow
// waits are events too: the blocked helper's, with its pid and comm.
func TestSlowEventsOfTheSingleSeries(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 4
	spin := 30 * time.Millisecond
	eachFlavour(t, func(t *testing.T, fl flavour) {
		comm := uniqueComm("ebpfl-one")
		cfg := DefaultConfig()
		cfg.Threshold = "15ms"
		p := startProbe(t, fl.pin(cfg))
		_, pid := runHelperPid(t, "block", testCPU(t), rounds, strconv.Itoa(int(spin.Milliseconds())), comm)
		acc := gather(t, p)
		s, ok := findSeries(acc, map[string]string{})
		require.True(t, ok)
		var helper int
		for _, e := range testenv.SlowEvents(acc) {
			f := e.Fields()
			require.GreaterOrEqual(t, f["seconds"], 0.015)
			if f["pid"] == uint64(pid) {
				require.Equal(t, comm, f["comm"])
				helper++
			}
		}
		t.Logf("%d samples, %d slow events of the helper", s.Count, helper)
		require.LessOrEqual(t, helper, rounds)
		require.GreaterOrEqual(t, helper, rounds-1, "every round's wait (bar the one switch sched_switch may miss)")
		require.Zero(t, p.Status().Counters[slowevent.CounterDropped])
	})
}
