package runq

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A comm with no new sample for expire_idle_series stops being written and
// its series, which is its max_comms slot, is freed: the next comm gets a
// series of its own instead of folding into "other".
func TestIdleCommExpiresAndFreesItsSlot(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		const expiry = 300 * time.Millisecond
		cpu := testCPU(t)
		tag := uniqueComm("x")[2:] // four hex digits of this run
		commA, commB := "ebpf-idle-a"+tag, "ebpf-idle-b"+tag
		a, b := startServer(t, commA, cpu, 1000), startServer(t, commB, cpu, 1000)
		cfg := DefaultConfig()
		cfg.Comms, cfg.MaxComms = []string{"ebpf-idle-[ab]" + tag}, 1
		p := startProbe(t, fl.pin(cfg), func(p *runqProbe) { p.ExpireIdleSeries(expiry) })

		a.sleep(t, 10)
		// Wait until a is blocked: a switch-in after "done" (a preemption
		// between the reply and the read) would land after this gather and
		// restart the idle clock.
		a.switchIns(t)
		require.Equal(t, map[string]bool{commA: true}, commsSeen(gather(t, p)))
		time.Sleep(expiry + 100*time.Millisecond) // a waits blocked: no sample
		require.Empty(t, commsSeen(gather(t, p)), "idle for the expiry time: no longer written")

		b.sleep(t, 10)
		acc := gather(t, p)
		require.Equal(t, map[string]bool{commB: true}, commsSeen(acc), "the newcomer took the freed slot")
		s, _ := findSeries(acc, map[string]string{TagComm: commB})
		require.Positive(t, s.Count)
		require.Zero(t, p.Status().Counters["comm_folded"])
	})
}

// Without comms or by_cgroup the one series lives in a per-CPU array entry,
// which cannot be deleted: once idle for expire_idle_series (the programs
// detached, so nothing more is recorded) it stops being written and is
// zeroed, so it is not written again until a new sample.
func TestSingleSeriesExpiresToZero(t *testing.T) {
	testenv.RequirePrivileged(t)
	const expiry = 200 * time.Millisecond
	eachFlavour(t, func(t *testing.T, fl flavour) {
		p := startProbe(t, fl.pin(DefaultConfig()), func(p *runqProbe) { p.ExpireIdleSeries(expiry) })
		runHelper(t, "sleep", testCPU(t), 20, "1000", sleeperName)
		s, ok := findSeries(gather(t, p), map[string]string{})
		require.True(t, ok)
		require.Positive(t, s.Count)
		require.NoError(t, p.att.Detach())
		gather(t, p) // the count as of the detach
		time.Sleep(expiry + 100*time.Millisecond)
		require.Empty(t, commsSeen(gather(t, p)), "idle for the expiry time: no longer written")
		require.Empty(t, commsSeen(gather(t, p)), "zeroed: an empty series is not written")
	})
}
