package disk

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// startProbe runs a disk probe limited to one device; it stops at test end.
func startProbe(t *testing.T, cfg *Config) *diskProbe {
	t.Helper()
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	p := newProbe(cfg, testutil.Logger{}).(*diskProbe)
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	return p
}

// loopOnTmpfs is a loop device over a file in a fresh tmpfs.
func loopOnTmpfs(t *testing.T) *testenv.LoopDevice {
	t.Helper()
	img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
	require.NoError(t, os.WriteFile(img, nil, 0o600))
	require.NoError(t, os.Truncate(img, 64<<20))
	return testenv.NewLoopDevice(t, img)
}

func gather(t *testing.T, p *diskProbe) *testutil.Accumulator {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	return &acc
}

// series holds one series' lines from one gather.
type series struct {
	count   uint64
	sum     float64
	max     float64
	buckets map[string]uint64 // le -> cumulative count
}

func findSeries(acc *testutil.Accumulator, tags map[string]string) (series, bool) {
	s := series{buckets: map[string]uint64{}}
	found := false
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != Measurement || !sameTags(m, tags) {
			continue
		}
		if le, ok := m.GetTag(histogram.TagBound); ok {
			v, _ := m.GetField(histogram.FieldBucket)
			s.buckets[le] = v.(uint64)
			continue
		}
		found = true
		c, _ := m.GetField(histogram.FieldCount)
		sum, _ := m.GetField(histogram.FieldSum)
		mx, _ := m.GetField(histogram.FieldMax)
		s.count, s.sum, s.max = c.(uint64), sum.(float64), mx.(float64)
	}
	return s, found
}

// sameTags compares tags, ignoring le.
func sameTags(m telegraf.Metric, want map[string]string) bool {
	got := m.Tags()
	delete(got, histogram.TagBound)
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// requireConsistent checks the histogram invariants of one series: buckets
// cumulate to the count, and the interval max fits under the first bound
// that holds every sample.
func requireConsistent(t *testing.T, s series) {
	t.Helper()
	require.Equal(t, s.count, s.buckets["+Inf"], "+Inf bucket equals count")
	var prev uint64
	firstFull := ""
	for slot := 0; slot < histogram.Slots-1; slot++ {
		c, ok := s.buckets[histogram.BoundLabel(slot)]
		if !ok {
			continue
		}
		require.GreaterOrEqual(t, c, prev, "buckets are cumulative")
		prev = c
		if c == s.count && firstFull == "" {
			firstFull = histogram.BoundLabel(slot)
		}
	}
	if firstFull != "" {
		bound, _ := strconv.ParseFloat(firstFull, 64)
		require.LessOrEqual(t, s.max, bound, "max %v above le=%s that holds all samples", s.max, firstFull)
	}
}

func TestExactCountsThroughEveryHook(t *testing.T) {
	testenv.RequirePrivileged(t)
	const writes, reads = 40, 25
	tests := []struct {
		hook, startTimes string
		queueMeasured    bool // loop devices never fire block_rq_insert
	}{
		{"tp_btf", StartTimesKernel, true},
		{"raw_tp", StartTimesKernel, true},
		{"tp_btf", StartTimesProbe, false},
		{"raw_tp", StartTimesProbe, false},
		{"tracepoint", StartTimesAuto, false},
	}
	for _, tt := range tests {
		t.Run(tt.hook+"/"+tt.startTimes, func(t *testing.T) {
			dev := loopOnTmpfs(t)
			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook, cfg.StartTimes = []string{dev.Name}, tt.hook, tt.startTimes
			p := startProbe(t, cfg)
			require.Equal(t, tt.hook, p.Status().Hook)

			testenv.IssueDirect(t, dev.Path, true, writes, 0)
			testenv.IssueDirect(t, dev.Path, false, reads, 0)
			acc := gather(t, p)

			for op, n := range map[string]uint64{"write": writes, "read": reads} {
				s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": op, "stage": StageService})
				require.True(t, ok, "no %s service series", op)
				require.Equal(t, n, s.count, "%s service count", op)
				require.Positive(t, s.sum)
				requireConsistent(t, s)

				q, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": op, "stage": StageQueue})
				require.Equal(t, tt.queueMeasured, ok, "%s queue series present", op)
				if ok {
					require.Equal(t, n, q.count, "%s queue count", op)
					requireConsistent(t, q)
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

// A known delay (a FUSE backing file that sleeps 20 ms per I/O) must land in
// the bucket that holds it: (16.384 ms, 32.768 ms].
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
				require.Equal(t, uint64(n), s.count)
				require.Equal(t, uint64(0), s.buckets["0.016384"], "no %s sample below the injected delay", op)
				require.Equal(t, uint64(n), s.buckets["0.032768"], "every %s sample in (16.384 ms, 32.768 ms]", op)
				require.GreaterOrEqual(t, s.max, delay.Seconds())
				require.GreaterOrEqual(t, s.sum, n*delay.Seconds())
				requireConsistent(t, s)
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
	require.Equal(t, uint64(10), first.count)
	require.Positive(t, first.max)

	second, ok := findSeries(gather(t, p), tags)
	require.True(t, ok, "a quiet series is still emitted")
	require.Equal(t, first.count, second.count)
	require.Equal(t, first.buckets, second.buckets, "same bounds, same cumulative counts")
	require.Zero(t, second.max, "no sample in the quiet interval")

	testenv.IssueDirect(t, dev.Path, true, 5, 10)
	third, _ := findSeries(gather(t, p), tags)
	require.Equal(t, uint64(15), third.count)
	require.Positive(t, third.max)
}

// Start and Stop leave no program or map behind, however often they run.
func TestStartStopLeavesNothing(t *testing.T) {
	testenv.RequirePrivileged(t)
	for i := 0; i < 3; i++ {
		p := newProbe(DefaultConfig(), testutil.Logger{}).(*diskProbe)
		require.NoError(t, p.Start())
		progs, maps := objectIDs(t, p)
		require.NotEmpty(t, progs)
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "second Stop is a no-op")
		// Links drop their program after an RCU grace period: wait for it.
		for _, id := range progs {
			require.Eventually(t, func() bool {
				prog, err := ebpf.NewProgramFromID(id)
				if err == nil {
					prog.Close() // our own reference would keep it alive
				}
				return errors.Is(err, os.ErrNotExist)
			}, 5*time.Second, 10*time.Millisecond, "program %d still loaded", id)
		}
		for _, id := range maps {
			require.Eventually(t, func() bool {
				// The library unmaps .rodata's memory view from a GC cleanup.
				runtime.GC()
				m, err := ebpf.NewMapFromID(id)
				if err == nil {
					m.Close()
				}
				return errors.Is(err, os.ErrNotExist)
			}, 5*time.Second, 10*time.Millisecond, "map %d still exists", id)
		}
	}
}

// objectIDs lists the kernel IDs of a running probe's programs and maps.
func objectIDs(t *testing.T, p *diskProbe) ([]ebpf.ProgramID, []ebpf.MapID) {
	t.Helper()
	var progs []ebpf.ProgramID
	for _, prog := range p.att.Collection.Programs {
		info, err := prog.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		progs = append(progs, id)
	}
	var maps []ebpf.MapID
	for _, m := range p.att.Collection.Maps {
		info, err := m.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		maps = append(maps, id)
	}
	return progs, maps
}
