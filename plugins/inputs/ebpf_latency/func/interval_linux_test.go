package funcprobe

import (
	"strconv"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// intervalGather is one gather of the do_work series in interval mode.
type intervalGather struct {
	count    uint64               // interval_count
	buckets  map[[2]string]uint64 // (gt, le) -> interval_bucket
	summary  map[string]any
	hasBound bool // some line carried seconds_bucket (must not, in this mode)
}

func gatherInterval(t *testing.T, p *funcProbe) intervalGather {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	g := intervalGather{buckets: map[[2]string]uint64{}}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Tags()[TagFunction] != "do_work" {
			continue
		}
		if _, ok := m.GetField(histogram.FieldBucket); ok {
			g.hasBound = true
		}
		if le, ok := m.GetTag(histogram.TagBound); ok {
			gt, _ := m.GetTag(histogram.TagLowerBound)
			v, _ := m.GetField(histogram.FieldIntervalBucket)
			g.buckets[[2]string{gt, le}] = v.(uint64)
			continue
		}
		g.summary = m.Fields()
		g.count = g.summary[histogram.FieldIntervalCount].(uint64)
	}
	require.NotNil(t, g.summary, "no summary line for do_work")
	return g
}

// Known sleeps in three intervals: the interval buckets and count hold
// exactly each interval's calls, in the buckets of their sleeps, and
// seconds_min is each interval's shortest call: never below its sleep.
func TestIntervalBucketsAndMin(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	p := newProbe(Config{{Binary: bin, Symbol: "do_work"}}, testutil.Logger{}).(*funcProbe)
	p.UseHistograms(histogram.Options{Layout: histogram.IntervalCounts})
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })

	// 20 ms calls land at or above (16.384, 32.768] ms, 6 ms ones at or
	// above (4.096, 8.192]: scheduling delay only ever moves a call up.
	startWorker(t, bin, "work", "7", "20", "3", "6").run(t)
	g := gatherInterval(t, p)
	require.False(t, g.hasBound, "no seconds_bucket lines in interval mode")
	require.Equal(t, uint64(10), g.count)
	requireNoCallBelowItsSleep(t, g.buckets, map[float64]uint64{0.020: 7, 0.006: 3})
	min := g.summary[histogram.FieldMin].(float64)
	require.GreaterOrEqual(t, min, 0.006, "no call shorter than its sleep")
	require.Less(t, min, 0.020, "the 6 ms calls are the shortest")
	require.GreaterOrEqual(t, g.summary[histogram.FieldMax].(float64), 0.020)

	startWorker(t, bin, "work", "4", "20").run(t)
	g = gatherInterval(t, p)
	require.Equal(t, uint64(4), g.count, "only this interval's calls")
	requireNoCallBelowItsSleep(t, g.buckets, map[float64]uint64{0.020: 4})
	require.GreaterOrEqual(t, g.summary[histogram.FieldMin].(float64), 0.020,
		"the earlier 6 ms calls belong to the last interval")
	require.Equal(t, uint64(14), g.summary[histogram.FieldCount].(uint64), "seconds_count stays cumulative")

	g = gatherInterval(t, p)
	require.Zero(t, g.count)
	require.Empty(t, g.buckets, "an idle interval writes no bucket lines")
	require.NotContains(t, g.summary, histogram.FieldMin, "no min without a sample")
	require.Zero(t, g.summary[histogram.FieldIntervalSum].(float64))
}

// requireNoCallBelowItsSleep checks interval buckets against the calls the
// worker made (sleep in seconds -> calls): a call lasts at least its sleep,
// so for every sleep s at least as many samples sit in buckets whose upper
// bound reaches s as there were calls of s or longer. Above, only a loose
// bound holds on a busy machine: no bucket starts beyond twice the longest
// sleep plus 10 ms (the slot math itself is proven exactly on the C, in
// plugins/common/histogram).
func requireNoCallBelowItsSleep(t *testing.T, buckets map[[2]string]uint64, calls map[float64]uint64) {
	t.Helper()
	var longest float64
	for sleep := range calls {
		longest = max(longest, sleep)
	}
	for b := range buckets {
		gt, err := strconv.ParseFloat(b[0], 64)
		require.NoError(t, err, "gt %q", b[0])
		require.Less(t, gt, 2*longest+0.010, "bucket %v far above every sleep", b)
	}
	for sleep := range calls {
		var want, got uint64
		for s, n := range calls {
			if s >= sleep {
				want += n
			}
		}
		for b, n := range buckets {
			le, err := strconv.ParseFloat(b[1], 64)
			require.NoError(t, err, "le %q", b[1])
			if le >= sleep {
				got += n
			}
		}
		require.GreaterOrEqual(t, got, want, "calls of %gs or longer in buckets reaching %gs: %v", sleep, sleep, buckets)
	}
}
