package histogram

import (
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
)

// lines renders what acc received as sorted "tags fields" strings, so a
// whole gather can be compared with hand-written text.
func lines(acc *testutil.Accumulator) []string {
	var out []string
	for _, m := range acc.GetTelegrafMetrics() {
		var parts []string
		for _, tag := range m.TagList() {
			parts = append(parts, tag.Key+"="+tag.Value)
		}
		var fields []string
		for _, f := range m.FieldList() {
			fields = append(fields, f.Key+"="+fmtValue(f.Value))
		}
		sort.Strings(fields)
		out = append(out, strings.Join(parts, ",")+" "+strings.Join(fields, ","))
	}
	sort.Strings(out)
	return out
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case uint64:
		return strconv.FormatUint(x, 10) + "u"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	panic("unexpected field type")
}

func TestEmitIntervalCounts(t *testing.T) {
	e := NewEmitter(Options{Layout: IntervalCounts})
	tags := map[string]string{"device": "sda"}
	gather := func(now int64, iv Interval) []string {
		var acc testutil.Accumulator
		e.Emit(&acc, "m", tags, &iv, time.Unix(now, 0))
		require.Equal(t, map[string]string{"device": "sda"}, tags, "le and gt removed again")
		return lines(&acc)
	}

	// First gather: everything since load is the interval's.
	var iv Interval
	iv.Slots[0], iv.Slots[11], iv.Slots[Slots-1] = 2, 3, 1
	iv.SumNs, iv.MinNs, iv.MaxNs, iv.Sampled = 2_000_000_000_000, 500, 1_900_000_000_000, true
	require.Equal(t, []string{
		"device=sda interval_count=6u,interval_sum_seconds=2000,seconds_count=6u,seconds_max=1900,seconds_min=0.0000005,seconds_sum=2000",
		"device=sda,gt=0,le=0.000001 interval_bucket=2u",
		"device=sda,gt=0.001024,le=0.002048 interval_bucket=3u",
		"device=sda,gt=1073.741824,le=+Inf interval_bucket=1u",
	}, gather(1, iv))

	// Second: two more in slot 11, one in slot 12; only the gains show.
	iv.Slots[11], iv.Slots[12] = 5, 1
	iv.SumNs += 7_000_000
	iv.MinNs, iv.MaxNs = 1_500_000, 3_000_000
	require.Equal(t, []string{
		"device=sda interval_count=3u,interval_sum_seconds=0.007,seconds_count=9u,seconds_max=0.003,seconds_min=0.0015,seconds_sum=2000.007",
		"device=sda,gt=0.001024,le=0.002048 interval_bucket=2u",
		"device=sda,gt=0.002048,le=0.004096 interval_bucket=1u",
	}, gather(2, iv))

	// Third: idle. No bucket lines, no min, zero interval count.
	iv.MaxNs, iv.MinNs, iv.Sampled = 0, 0, false
	require.Equal(t, []string{
		"device=sda interval_count=0u,interval_sum_seconds=0,seconds_count=9u,seconds_max=0,seconds_sum=2000.007",
	}, gather(3, iv))

	// Fourth: the kernel key was deleted and recreated (counts went down):
	// all of its counts are new.
	var fresh Interval
	fresh.Slots[3], fresh.SumNs, fresh.MinNs, fresh.MaxNs, fresh.Sampled = 1, 5000, 5000, 5000, true
	require.Equal(t, []string{
		"device=sda interval_count=1u,interval_sum_seconds=0.000005,seconds_count=1u,seconds_max=0.000005,seconds_min=0.000005,seconds_sum=0.000005",
		"device=sda,gt=0.000004,le=0.000008 interval_bucket=1u",
	}, gather(4, fresh))
}

// A series missing from one gather (its key expired) starts over when it
// returns, even if its counts happen to be higher than before.
func TestEmitIntervalForgetsIdleSeries(t *testing.T) {
	e := NewEmitter(Options{Layout: IntervalCounts})
	a, b := map[string]string{"s": "a"}, map[string]string{"s": "b"}
	var iv Interval
	iv.Slots[5], iv.SumNs = 4, 100
	count := func(now int64, tags map[string]string) uint64 {
		var acc testutil.Accumulator
		e.Emit(&acc, "m", tags, &iv, time.Unix(now, 0))
		v, ok := acc.Get("m")
		require.True(t, ok)
		for _, m := range acc.Metrics {
			if _, isBucket := m.Tags[TagBound]; !isBucket {
				return m.Fields[FieldIntervalCount].(uint64)
			}
		}
		t.Fatalf("no summary line in %v", v)
		return 0
	}
	require.Equal(t, uint64(4), count(1, a))
	require.Equal(t, uint64(4), count(1, b))
	require.Equal(t, uint64(0), count(2, a)) // b not written in gather 2
	iv.Slots[5] = 6
	require.Equal(t, uint64(2), count(3, a))
	require.Equal(t, uint64(6), count(3, b), "b was forgotten: all of it is new")
}

// Quantiles come from the interval's gains, beside cumulative buckets too,
// and only when the interval had samples.
func TestEmitQuantiles(t *testing.T) {
	e := NewEmitter(Options{Quantiles: []float64{0.5, 0.999}})
	summary := func(now int64, iv Interval) map[string]any {
		var acc testutil.Accumulator
		e.Emit(&acc, "m", map[string]string{}, &iv, time.Unix(now, 0))
		for _, m := range acc.Metrics {
			if _, ok := m.Tags[TagBound]; !ok {
				return m.Fields
			}
		}
		return nil
	}
	var iv Interval
	iv.Slots[12], iv.SumNs, iv.MinNs, iv.MaxNs, iv.Sampled = 1, 3_000_000, 3_000_000, 3_000_000, true
	f := summary(1, iv)
	require.Equal(t, 0.003, f["p50_seconds"])
	require.Equal(t, 0.003, f["p999_seconds"])

	// Nine more, all 1 µs or less: the median is now in the first bucket,
	// although 3 ms is still in the cumulative counts.
	iv.Slots[0], iv.MinNs, iv.MaxNs = 9, 200, 900
	f = summary(2, iv)
	require.Equal(t, 550e-9, f["p50_seconds"])  // rank 4.5 of 9 in [min, max] = [200, 900] ns
	require.Equal(t, 899e-9, f["p999_seconds"]) // rank 8.991 of 9: 899.3 ns, whole nanoseconds

	iv.Sampled = false
	f = summary(3, iv)
	require.NotContains(t, f, "p50_seconds")
	require.NotContains(t, f, "p999_seconds")
	require.Equal(t, uint64(10), f[FieldCount])
}
