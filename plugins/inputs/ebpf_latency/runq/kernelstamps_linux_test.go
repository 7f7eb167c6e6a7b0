package runq

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// With the scheduler's own stamps, a sample is exactly what the scheduler
// adds to the task's run_delay, an independent count read from
// /proc/PID/schedstat: over sleeps alone on the CPU (wakeups onto an idle
// CPU, timed from a run-queue clock the scheduler did not update since
// the enqueue, so often 0) and sleeps beside a hog (waits of up to a tick),
// the probe's sum grows by the run_delay the kernel added, to the
// nanosecond, and its count by the arrivals (pcount) it counted.
func TestKernelStampsAreTheSchedulersRunDelay(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 100
	fl := flavour{"tp_btf", StartTimesKernel}
	cpu := testCPU(t)
	comm := uniqueComm("ebpfl-rdly")
	srv := startServer(t, comm, cpu, 500)
	cfg := DefaultConfig()
	cfg.Comms = []string{comm}
	p := startProbe(t, fl.pin(cfg))

	sampled := func() (sum float64, count uint64) {
		s, ok := findSeries(gather(t, p), map[string]string{TagComm: comm})
		if !ok {
			return 0, 0
		}
		return s.Sum, s.Count
	}
	sum0, count0 := sampled()
	delay0, arrivals0 := srv.schedstat(t)
	srv.sleep(t, rounds)
	startHog(t, cpu)
	srv.sleep(t, rounds)
	delay1, arrivals1 := srv.schedstat(t)
	sum1, count1 := sampled()

	runDelay := time.Duration(delay1 - delay0)
	arrivals, samples := arrivals1-arrivals0, count1-count0
	sum := time.Duration((sum1-sum0)*1e9 + 0.5)
	t.Logf("%d sleeps: run_delay +%v over %d arrivals; probe +%v over %d samples", 2*rounds, runDelay, arrivals, sum, samples)
	require.GreaterOrEqual(t, samples, uint64(2*rounds), "a sample per sleep")
	require.Positive(t, runDelay, "the hog made the server wait")
	if samples == arrivals {
		require.InDelta(t, runDelay.Nanoseconds(), sum.Nanoseconds(), 1, "the probe's sum is the kernel's run_delay")
		return
	}
	// The one arrival sched_switch may not report (see requireSwitchIns):
	// its wait is in run_delay only.
	require.Equal(t, arrivals, samples+1, "one arrival at most without a sample")
	require.LessOrEqual(t, sum, runDelay, "no wait the kernel did not add to run_delay")
}
