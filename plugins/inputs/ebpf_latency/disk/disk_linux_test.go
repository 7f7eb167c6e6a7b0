package disk

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// startProbe runs a disk probe limited to one device; it stops at test end.
func startProbe(t *testing.T, cfg *Config) *diskProbe {
	t.Helper()
	p := newProbe(cfg, testutil.Logger{}).(*diskProbe)
	start(t, p)
	return p
}

// start runs p, made by a test that may set its fields; it stops at test end.
func start(t *testing.T, p *diskProbe) {
	t.Helper()
	require.NoError(t, p.cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	testenv.UseScheme(p)
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
}

// loopOnTmpfs is a loop device over a file in a fresh tmpfs.
func loopOnTmpfs(t *testing.T) *testenv.LoopDevice {
	t.Helper()
	return testenv.NewLoopDevice(t, tmpfsImage(t))
}

// tmpfsImage is a 64 MiB file in a fresh tmpfs.
func tmpfsImage(t *testing.T) string {
	t.Helper()
	img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
	require.NoError(t, os.WriteFile(img, nil, 0o600))
	require.NoError(t, os.Truncate(img, 64<<20))
	return img
}

type series = testenv.Series

func findSeries(acc *testutil.Accumulator, tags map[string]string) (series, bool) {
	return testenv.FindSeries(acc, Measurement, tags)
}

var requireConsistent = testenv.RequireConsistent

func gather(t *testing.T, p *diskProbe) *testutil.Accumulator {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	return &acc
}

func TestExactCountsThroughEveryHook(t *testing.T) {
	testenv.RequirePrivileged(t)
	const writes, reads = 40, 25
	tests := []struct {
		hook, startTimes string
		queueMeasured    bool   // loop devices never fire block_rq_insert
		runs             string // Status: auto's tracepoints carry no request to read timestamps from
	}{
		{"tp_btf", StartTimesKernel, true, StartTimesKernel},
		{"raw_tp", StartTimesKernel, true, StartTimesKernel},
		{"tp_btf", StartTimesProbe, false, StartTimesProbe},
		{"raw_tp", StartTimesProbe, false, StartTimesProbe},
		{"tracepoint", StartTimesAuto, false, StartTimesProbe},
	}
	for _, tt := range tests {
		t.Run(tt.hook+"/"+tt.startTimes, func(t *testing.T) {
			dev := loopOnTmpfs(t)
			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook, cfg.StartTimes = []string{dev.Name}, tt.hook, tt.startTimes
			p := startProbe(t, cfg)
			require.Equal(t, tt.hook, p.Status().Hook)
			require.Equal(t, tt.runs, p.Status().StartTimes)

			testenv.IssueDirect(t, dev.Path, true, writes, 0)
			testenv.IssueDirect(t, dev.Path, false, reads, 0)
			acc := gather(t, p)

			for op, n := range map[string]uint64{"write": writes, "read": reads} {
				s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": op, "stage": StageService})
				require.True(t, ok, "no %s service series", op)
				require.Positive(t, s.Sum)
				requireConsistent(t, s, n)

				q, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": op, "stage": StageQueue})
				require.Equal(t, tt.queueMeasured, ok, "%s queue series present", op)
				if ok {
					requireConsistent(t, q, n)
				}
			}
			for _, m := range acc.GetTelegrafMetrics() {
				require.Equal(t, dev.Name, m.Tags()["device"], "devices filter lets only the test's device through")
			}
			if tt.startTimes == StartTimesKernel {
				// Elsewhere, requests other disks had in flight at attach
				// have no start time of ours: untimed by design.
				require.Zero(t, p.Status().Counters["untimed_completions"])
			}
		})
	}
}

// A known delay (a FUSE backing file that sleeps 20 ms per I/O) keeps every
// sample above 16.384 ms.
func TestDelayLandsInItsBucket(t *testing.T) {
	testenv.RequirePrivileged(t)
	const n = 6
	delay := 20 * time.Millisecond
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, delay))
	for _, hook := range []string{"tp_btf", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook = []string{dev.Name}, hook
			p := startProbe(t, cfg)
			testenv.IssueDirect(t, dev.Path, true, n, 0)
			testenv.IssueDirect(t, dev.Path, false, n, 0)
			acc := gather(t, p)
			for _, op := range []string{"write", "read"} {
				s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": op, "stage": StageService})
				require.True(t, ok)
				testenv.RequireDelayed(t, s, n, "0.016384")
				require.GreaterOrEqual(t, s.Max, delay.Seconds())
				require.GreaterOrEqual(t, s.Sum, n*delay.Seconds())
				requireConsistent(t, s, n)
			}
		})
	}
}

// An fdatasync on the device is a data-less preflush write that the flush
// machinery ends unissued, plus one REQ_OP_FLUSH request: op=flush counts it.
func TestFlushCountedOncePerSync(t *testing.T) {
	testenv.RequirePrivileged(t)
	const syncs = 3
	for _, hook := range []string{"tp_btf", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			dev := loopOnTmpfs(t)
			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook, cfg.Flags = []string{dev.Name}, hook, true
			p := startProbe(t, cfg)
			for i := 0; i < syncs; i++ {
				testenv.IssueDirect(t, dev.Path, true, 1, int64(i))
				testenv.Fdatasync(t, dev.Path)
			}
			acc := gather(t, p)
			var flushes, writes uint64
			for _, m := range acc.GetTelegrafMetrics() {
				if _, ok := m.GetTag(histogram.TagBound); ok || m.Tags()["stage"] != StageService {
					continue
				}
				c, _ := m.GetField(histogram.FieldCount)
				switch m.Tags()["op"] {
				case "flush":
					flushes += c.(uint64)
				case "write":
					writes += c.(uint64)
					require.Equal(t, "sync", m.Tags()["flags"], "O_DIRECT writes are REQ_SYNC")
				}
			}
			require.Equal(t, uint64(syncs), flushes, "one flush request per fdatasync")
			require.Equal(t, uint64(syncs), writes, "the data-less preflush writes are not counted as writes")
			require.Equal(t, uint64(syncs), p.Status().Counters["preflush_unissued"])
		})
	}
}

// Buckets are cumulative across gathers; the max belongs to one interval.
func TestIntervalMaxResetsCountsDoNot(t *testing.T) {
	testenv.RequirePrivileged(t)
	dev := loopOnTmpfs(t)
	cfg := DefaultConfig()
	cfg.Devices = []string{dev.Name}
	p := startProbe(t, cfg)
	tags := map[string]string{"device": dev.Name, "op": "write", "stage": StageService}

	testenv.IssueDirect(t, dev.Path, true, 10, 0)
	first, _ := findSeries(gather(t, p), tags)
	require.Equal(t, uint64(10), first.Count)
	require.Positive(t, first.Max)

	second, ok := findSeries(gather(t, p), tags)
	require.True(t, ok, "a quiet series is still emitted")
	require.Equal(t, first.Count, second.Count)
	require.Equal(t, first.Buckets, second.Buckets, "same bounds, same cumulative counts")
	require.Zero(t, second.Max, "no sample in the quiet interval")

	testenv.IssueDirect(t, dev.Path, true, 5, 10)
	third, _ := findSeries(gather(t, p), tags)
	require.Equal(t, uint64(15), third.Count)
	require.Positive(t, third.Max)
}

// Start and Stop leave no program or map behind, however often they run.
func TestStartStopLeavesNothing(t *testing.T) {
	testenv.RequirePrivileged(t)
	for i := 0; i < 3; i++ {
		p := newProbe(DefaultConfig(), testutil.Logger{}).(*diskProbe)
		require.NoError(t, p.Start())
		objs := testenv.ObjectsOf(t, p.att.Collection)
		require.NotEmpty(t, objs.Programs)
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "second Stop is a no-op")
		testenv.RequireFreed(t, objs)
	}
}
