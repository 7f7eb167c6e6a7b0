package runq

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// More tasks wait at once than the fallback hash holds: each enqueue time it
// refuses is counted in start_full, and each wait it cost shows up as an
// untimed switch-in, never as a silent gap. Task storage, which holds a
// record per task, times every one of the same crowd.
func TestCrowdBeyondStartRecords(t *testing.T) {
	testenv.RequirePrivileged(t)
	const (
		crowd   = 12 // children waiting in the run queue at once
		entries = 4  // the hash's room, for every task of the machine
		spinMs  = 20 // how long the SCHED_FIFO parent keeps them waiting
	)
	for _, tt := range []struct{ hook, store string }{
		{"tp_btf", taskstarts.TaskStorage},
		{"tp_btf", taskstarts.Hash},
		{"raw_tp", taskstarts.Hash},
	} {
		t.Run(tt.hook+","+tt.store, func(t *testing.T) {
			comm := uniqueComm("ebpfl-crwd")
			cfg := DefaultConfig()
			cfg.Comms, cfg.Hook, cfg.StartTimes = []string{comm}, tt.hook, tt.store
			p := startProbe(t, cfg, func(p *runqProbe) { p.startEntries = entries })
			require.Equal(t, tt.store == taskstarts.TaskStorage, p.store.Local)
			before := p.Status().Counters

			low, high := runCrowd(t, testCPU(t), crowd, spinMs, comm)
			s, ok := findSeries(gather(t, p), map[string]string{TagComm: comm})
			after := p.Status().Counters
			full := after[taskstarts.CounterFull] - before[taskstarts.CounterFull]
			refused := after[taskstarts.CounterRefused] - before[taskstarts.CounterRefused]
			untimed := after["untimed_switches"] - before["untimed_switches"]
			t.Logf("%d to %d named switch-ins, %d samples, start_full +%d, start_refused +%d, untimed +%d",
				low, high, s.Count, full, refused, untimed)
			require.GreaterOrEqual(t, low, uint64(crowd), "each child is switched in after its wakeup")
			require.LessOrEqual(t, s.Count, high)
			// Waits surely lost (fewer samples than the fewest switch-ins)
			// and at most lost (than the most).
			lost, mostLost := low-min(s.Count, low), high-s.Count
			// The one switch sched_switch may not report (requireSwitchIns).
			require.LessOrEqual(t, lost, untimed+1, "each lost wait is an untimed switch-in")
			if tt.store == taskstarts.TaskStorage {
				require.True(t, ok, "no series for %s", comm)
				require.LessOrEqual(t, lost, uint64(1))
				require.Zero(t, full)
				require.Zero(t, refused)
				// Woken at once, each waited out the whole spin.
				long := s.Count - s.Buckets["0.016384"]
				require.GreaterOrEqual(t, long+lost, uint64(crowd), "every child's wait above 16.384 ms")
				return
			}
			// All crowd enqueues come before any of them is switched in,
			// and the whole machine shares entries records.
			require.LessOrEqual(t, s.Count, entries+high-crowd, "no more timed waits than records")
			require.GreaterOrEqual(t, mostLost, uint64(crowd-entries))
			require.GreaterOrEqual(t, full+1, lost, "each lost wait is a refused record")
			require.Zero(t, refused, "the hash refuses as full, never otherwise")
		})
	}
}

// runCrowd runs runqhelper crowd and returns the bounds it gives on the
// children's switch-ins while named (see crowd in runqhelper.c).
func runCrowd(t *testing.T, cpu, children, spinMs int, comm string) (low, high uint64) {
	t.Helper()
	requireHelper(t)
	args := []string{"crowd", strconv.Itoa(cpu), strconv.Itoa(children), strconv.Itoa(spinMs), comm}
	out, err := exec.Command(helperBin, args...).Output()
	require.NoError(t, err, "runqhelper %v", args)
	fields := strings.Fields(string(out))
	require.Len(t, fields, 2, "runqhelper %v: %q", args, out)
	low, err = strconv.ParseUint(fields[0], 10, 64)
	require.NoError(t, err)
	high, err = strconv.ParseUint(fields[1], 10, 64)
	require.NoError(t, err)
	require.LessOrEqual(t, low, high)
	return low, high
}
