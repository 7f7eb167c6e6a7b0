package funcprobe

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

func itoa(i int) string { return strconv.Itoa(i) }

// startProbe validates cfg and runs a func probe through the given hook
// chain (nil: the real one) until the test ends.
func startProbe(t *testing.T, cfg Config, chain []hooks.Flavour, log telegraf.Logger) *funcProbe {
	t.Helper()
	require.NoError(t, cfg.Validate())
	return runProbe(t, cfg, chain, log)
}

// runProbe is startProbe for a config validated earlier.
func runProbe(t *testing.T, cfg Config, chain []hooks.Flavour, log telegraf.Logger) *funcProbe {
	t.Helper()
	require.NoError(t, kernel.CheckPrerequisites())
	p := newProbe(cfg, log).(*funcProbe)
	testenv.UseScheme(p)
	if chain != nil {
		p.flavours = chain
	}
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	return p
}

// series holds one series' lines from one gather.
type series struct {
	count   uint64
	sum     float64
	max     float64
	buckets map[string]uint64 // le -> cumulative count
}

func gatherSeries(t *testing.T, p *funcProbe, binary, function string) series {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	s := series{buckets: map[string]uint64{}}
	found := false
	for _, m := range acc.GetTelegrafMetrics() {
		require.Equal(t, Measurement, m.Name())
		tags := m.Tags()
		if tags[TagBinary] != binary || tags[TagFunction] != function {
			continue
		}
		if le, ok := tags[histogram.TagBound]; ok {
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
	require.True(t, found, "no series binary=%s function=%s", binary, function)
	return s
}

// requireCalls checks the count and the +Inf bucket against the calls the
// worker made: its own count, not one read from the histogram.
func (s series) requireCalls(t *testing.T, calls int) {
	t.Helper()
	require.Equal(t, uint64(calls), s.count, "seconds_count: the calls the worker made")
	require.Equal(t, uint64(calls), s.cumulative(t, "+Inf"), "+Inf bucket: the calls the worker made")
}

// cumulative is the count at bound le; a bound below the series' lowest
// emitted bucket holds nothing.
func (s series) cumulative(t *testing.T, le string) uint64 {
	t.Helper()
	if c, ok := s.buckets[le]; ok {
		return c
	}
	bound, err := strconv.ParseFloat(le, 64)
	require.NoError(t, err)
	for l := range s.buckets {
		if b, err := strconv.ParseFloat(l, 64); err == nil && b < bound {
			t.Fatalf("le=%s not emitted though le=%s is", le, l)
		}
	}
	return 0
}

// 30 calls of 2 ms and 10 of 20 ms, none timed below its sleep, through
// every program set: uprobe_multi links, perf uprobes with attach cookies,
// and the per-slot fallback older kernels get.
func TestDelaysLandInTheirBuckets(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	for _, tt := range []struct {
		name  string
		chain []hooks.Flavour
		hook  string
		store string
		runs  string // every uprobe flavour runs in the thread: auto's task storage (TestThreadsBeyondStartRecords/auto)
	}{
		{"multi", nil, "uprobe_multi", taskstarts.Auto, taskstarts.TaskStorage},
		{"cookies", []hooks.Flavour{withCookies}, "uprobe", taskstarts.Auto, taskstarts.TaskStorage},
		{"slots", []hooks.Flavour{withSlots}, "uprobe", taskstarts.Auto, taskstarts.TaskStorage},
		{"multi, hash", nil, "uprobe_multi", taskstarts.Hash, taskstarts.Hash},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startProbe(t, Config{{Binary: bin, Symbol: "do_work", StartTimes: tt.store}}, tt.chain, testutil.Logger{})
			require.Equal(t, tt.hook, p.Status().Hook)
			require.Equal(t, tt.runs, p.Status().StartTimes)
			startWorker(t, bin, "work", "30", "2", "10", "20").run(t)

			s := gatherSeries(t, p, "worker", "do_work")
			s.requireCalls(t, 40)
			// Wall clock bounds only from below: no call faster than its
			// sleep; above, only the loose ceiling.
			require.Zero(t, s.cumulative(t, "0.001024"), "no call faster than its sleep")
			require.LessOrEqual(t, s.cumulative(t, "0.016384"), uint64(30), "20 ms calls above 16.384 ms")
			require.Equal(t, uint64(40), s.cumulative(t, testenv.Ceiling), "no call above le=%s", testenv.Ceiling)
			require.GreaterOrEqual(t, s.sum, 30*0.002+10*0.020)
			require.GreaterOrEqual(t, s.max, 0.020)

			st := p.Status().Counters
			require.Equal(t, uint64(1), st[counterAttached])
			require.Zero(t, st[counterFailed])
			for _, c := range counterNames {
				require.Zero(t, st[c], c)
			}
			requireSeriesWhere(t, p, map[uint32]bool{0: true})
		})
	}
}

// libc's fsync, by the library's path, limited to one process: a second
// process calling it at the same time is not seen.
func TestSharedLibraryFilteredByPID(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	dir := t.TempDir()
	const mine, others = 7, 5
	w := startWorker(t, bin, "fsync", itoa(mine), filepath.Join(dir, "a"))
	other := startWorker(t, bin, "fsync", itoa(others), filepath.Join(dir, "b"))
	libc := libcOf(t, w.pid())
	p := startProbe(t, Config{{Binary: libc, Symbol: "fsync", PID: w.pid(), Name: "libc_fsync"}}, nil, testutil.Logger{})

	other.run(t)
	w.run(t)
	s := gatherSeries(t, p, filepath.Base(libc), "libc_fsync")
	s.requireCalls(t, mine)
}

// A function that cannot attach is logged with its binary and symbol and
// counted; the one that can still measures.
func TestBadFunctionFailsAlone(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	dir := t.TempDir()
	stripped := filepath.Join(dir, "stripped-worker")
	out, err := exec.Command("strip", "--strip-all", "-o", stripped, bin).CombinedOutput()
	require.NoError(t, err, "strip: %s", out)
	gone := filepath.Join(dir, "gone-worker")
	out, err = exec.Command("cp", bin, gone).CombinedOutput()
	require.NoError(t, err, "cp: %s", out)
	cfg := Config{
		{Binary: bin, Symbol: "no_such_function"},
		{Binary: bin, Symbol: "do_work"},
		{Binary: stripped, Symbol: "do_work"},
		{Binary: gone, Symbol: "do_work"},
	}
	require.NoError(t, cfg.Validate())
	require.NoError(t, os.Remove(gone)) // vanishes between config and start

	var log testutil.CaptureLogger
	p := runProbe(t, cfg, nil, &log)
	errs := log.Errors()
	require.Len(t, errs, 3, "one error per bad function: %q", errs)
	for i, want := range [][2]string{{bin, "no_such_function"}, {stripped, "do_work"}, {gone, "do_work"}} {
		require.Contains(t, errs[i], "binary "+want[0]+", symbol "+want[1]+")")
	}
	require.Contains(t, errs[0], "not found in the symbol table or dynamic symbols")
	require.Contains(t, errs[1], "not found in the symbol table or dynamic symbols")
	require.Contains(t, errs[2], "no such file or directory")
	st := p.Status().Counters
	require.Equal(t, uint64(1), st[counterAttached])
	require.Equal(t, uint64(3), st[counterFailed])

	startWorker(t, bin, "work", "5", "1").run(t)
	gatherSeries(t, p, "worker", "do_work").requireCalls(t, 5)
}

// With no function attached there is nothing to run: Start fails, saying why.
func TestNoFunctionAttachedFailsStart(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	cfg := Config{{Binary: bin, Symbol: "no_such_function"}}
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	p := newProbe(cfg, testutil.Logger{}).(*funcProbe)
	err := p.Start()
	require.ErrorContains(t, err, "no function could be attached: function 0 (binary "+bin+", symbol no_such_function)")
	require.Nil(t, p.att)
	require.NoError(t, p.Stop())
}

// Recursion times the outermost call only, also past the kernel's limit of
// 64 nested uretprobes, where inner returns go unseen.
func TestOnlyOutermostCallIsTimed(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	const calls = 3
	for _, tt := range []struct {
		depth int
		store string
	}{{5, taskstarts.Auto}, {100, taskstarts.Auto}, {5, taskstarts.Hash}, {100, taskstarts.Hash}} {
		depth := tt.depth
		t.Run("depth "+itoa(depth)+", "+tt.store, func(t *testing.T) {
			p := startProbe(t, Config{{Binary: bin, Symbol: "nest", StartTimes: tt.store}}, nil, testutil.Logger{})
			startWorker(t, bin, "nest", itoa(calls), itoa(depth), "2").run(t)
			s := gatherSeries(t, p, "worker", "nest")
			s.requireCalls(t, calls)
			require.Zero(t, s.cumulative(t, "0.001024"), "each timed call spans the innermost sleep")
			st := p.Status().Counters
			require.Equal(t, uint64(calls*(depth-1)), st["nested_calls"])
			require.Zero(t, st["stale_entries"])
			require.Zero(t, st["unmatched_returns"])
		})
	}
}

// Start and Stop leave no program or map behind, however often they run.
func TestStartStopLeavesNothing(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	cfg := Config{{Binary: bin, Symbol: "do_work"}, {Binary: bin, Symbol: "nest"}}
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	for i := 0; i < 3; i++ {
		p := newProbe(cfg, testutil.Logger{}).(*funcProbe)
		require.NoError(t, p.Start())
		objs := testenv.ObjectsOf(t, p.att.Collection)
		require.NotEmpty(t, objs.Programs)
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "second Stop is a no-op")
		testenv.RequireFreed(t, objs)
	}
}
