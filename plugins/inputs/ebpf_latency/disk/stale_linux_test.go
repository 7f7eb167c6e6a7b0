package disk

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// With a queue's iostats off, Linux 6.13+ leaves rq->start_time_ns as the
// last request in the same preallocated slot stamped it: read as is, a
// queue time of everything since. No queue sample may exceed the wall clock
// of the workload that made it; a request whose stamp is not its own is
// counted in stale_start_times instead, so samples plus rejects are exactly
// the requests issued. The flush machinery's own request is stamped afresh.
func TestQueueTimeNeverOlderThanTheWorkload(t *testing.T) {
	testenv.RequirePrivileged(t)
	const n, syncs = 6, 3
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	for _, hook := range []string{"tp_btf", "raw_tp"} {
		t.Run(hook, func(t *testing.T) {
			// Stamp the device's request slots, then let the stamps age.
			testenv.IssueDirect(t, dev.Path, false, n, 0)
			time.Sleep(time.Second)
			for _, iostats := range []bool{false, true} {
				setIOStats(t, dev.Name, iostats)
				cfg := DefaultConfig()
				cfg.Devices, cfg.Hook = []string{dev.Name}, hook
				p := startProbe(t, cfg)

				began := time.Now()
				testenv.IssueDirect(t, dev.Path, true, n, 0)
				testenv.IssueDirect(t, dev.Path, false, n, 0)
				for i := 0; i < syncs; i++ {
					testenv.Fdatasync(t, dev.Path)
				}
				wall := time.Since(began).Seconds()
				acc := gather(t, p)
				stale := p.Status().Counters["stale_start_times"]
				require.NoError(t, p.Stop())

				var queued uint64
				for op, ops := range map[string]uint64{"write": n, "read": n, "flush": syncs} {
					s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": op, "stage": StageService})
					require.True(t, ok, "no %s service series", op)
					requireConsistent(t, s, ops)
					q, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": op, "stage": StageQueue})
					if !ok {
						continue
					}
					require.LessOrEqual(t, q.Max, wall, "iostats=%v: %s queue time beyond the workload's %.3f s", iostats, op, wall)
					require.LessOrEqual(t, q.Count, ops, "iostats=%v: %s queue samples", iostats, op)
					queued += q.Count
				}
				require.Equal(t, uint64(2*n+syncs), queued+stale, "iostats=%v: every request a queue sample or a stale stamp", iostats)
				if iostats {
					require.Zero(t, stale, "accounted requests stamp their own creation")
				} else {
					require.Equal(t, uint64(2*n), stale, "only the flushes are stamped without iostats")
				}
			}
		})
	}
}

// setIOStats switches the device's I/O accounting; the test leaves it on.
func setIOStats(t *testing.T, name string, on bool) {
	t.Helper()
	path := "/sys/block/" + name + "/queue/iostats"
	v := "0"
	if on {
		v = "1"
	}
	require.NoError(t, os.WriteFile(path, []byte(v), 0))
	t.Cleanup(func() { _ = os.WriteFile(path, []byte("1"), 0) })
}
