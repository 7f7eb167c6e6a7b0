package funcprobe

import (
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

	// 20 ms calls land in (16.384, 32.768] ms, 6 ms ones in (4.096, 8.192].
	startWorker(t, bin, "work", "7", "20", "3", "6").run(t)
	g := gatherInterval(t, p)
	require.False(t, g.hasBound, "no seconds_bucket lines in interval mode")
	require.Equal(t, uint64(10), g.count)
	require.Equal(t, map[[2]string]uint64{
		{"0.016384", "0.032768"}: 7,
		{"0.004096", "0.008192"}: 3,
	}, g.buckets)
	min := g.summary[histogram.FieldMin].(float64)
	require.GreaterOrEqual(t, min, 0.006, "no call shorter than its sleep")
	require.Less(t, min, 0.020, "the 6 ms calls are the shortest")
	require.GreaterOrEqual(t, g.summary[histogram.FieldMax].(float64), 0.020)

	startWorker(t, bin, "work", "4", "20").run(t)
	g = gatherInterval(t, p)
	require.Equal(t, uint64(4), g.count, "only this interval's calls")
	require.Equal(t, map[[2]string]uint64{{"0.016384", "0.032768"}: 4}, g.buckets)
	require.GreaterOrEqual(t, g.summary[histogram.FieldMin].(float64), 0.020,
		"the earlier 6 ms calls belong to the last interval")
	require.Equal(t, uint64(14), g.summary[histogram.FieldCount].(uint64), "seconds_count stays cumulative")

	g = gatherInterval(t, p)
	require.Zero(t, g.count)
	require.Empty(t, g.buckets, "an idle interval writes no bucket lines")
	require.NotContains(t, g.summary, histogram.FieldMin, "no min without a sample")
	require.Zero(t, g.summary[histogram.FieldIntervalSum].(float64))
}
