package histogram

import (
	"math"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
)

func TestBounds(t *testing.T) {
	tests := []struct {
		slot  int
		bound float64
		label string
	}{
		{0, 1e-6, "0.000001"},
		{1, 2e-6, "0.000002"},
		{10, 1.024e-3, "0.001024"},
		{20, 1.048576, "1.048576"},
		{Slots - 2, 1073.741824, "1073.741824"},
		{Slots - 1, math.Inf(1), "+Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			require.InDelta(t, tt.bound, UpperBound(tt.slot), tt.bound*1e-12)
			require.Equal(t, tt.label, BoundLabel(tt.slot))
		})
	}
}

func TestMergeKeepsOnlyThisIntervalsExtremes(t *testing.T) {
	var a, b, c Value
	a.Slots[3], b.Slots[3], b.Slots[5] = 2, 1, 4
	a.SumNs, b.SumNs = 100, 200
	a.MaxNs, a.MinNs, a.Stamp = 9000, 10, 6+1 // stale extremes of a quieter interval
	b.MaxNs, b.MinNs, b.Stamp = 5000, 3000, 7+1
	c.MaxNs, c.MinNs, c.Stamp = 4000, 2500, 7+1
	iv := Merge([]Value{a, b, c}, 7)
	require.Equal(t, uint64(3), iv.Slots[3])
	require.Equal(t, uint64(4), iv.Slots[5])
	require.Equal(t, uint64(7), iv.Count())
	require.Equal(t, uint64(300), iv.SumNs)
	require.Equal(t, uint64(5000), iv.MaxNs)
	require.Equal(t, uint64(2500), iv.MinNs)
	require.True(t, iv.Sampled)

	quiet := Merge([]Value{a}, 7)
	require.False(t, quiet.Sampled, "only a stale stamp: no sample this interval")
	require.Zero(t, quiet.MaxNs)
}

func TestEmitLayout(t *testing.T) {
	var acc testutil.Accumulator
	e := NewEmitter(Options{})
	now := time.Unix(1700000000, 0)
	tags := map[string]string{"device": "sda"}

	iv := Interval{SumNs: 3_500_000, MaxNs: 2_000_000, MinNs: 600_000, Sampled: true}
	iv.Slots[10], iv.Slots[11] = 1, 1 // 1 ms-ish and 2 ms-ish
	iv.Slots[Slots-1] = 1             // one beyond the last finite bound
	e.Emit(&acc, "m", tags, &iv, now)

	require.Equal(t, uint64(Slots+1), acc.NMetrics(), "every bound, +Inf included, then the summary")
	bucket := func(le string) map[string]string { return map[string]string{"device": "sda", "le": le} }
	require.True(t, acc.HasPoint("m", bucket("0.000001"), FieldBucket, uint64(0)))
	require.True(t, acc.HasPoint("m", bucket("0.000512"), FieldBucket, uint64(0)))
	require.True(t, acc.HasPoint("m", bucket("0.001024"), FieldBucket, uint64(1)))
	require.True(t, acc.HasPoint("m", bucket("0.002048"), FieldBucket, uint64(2)))
	require.True(t, acc.HasPoint("m", bucket("1073.741824"), FieldBucket, uint64(2)))
	require.True(t, acc.HasPoint("m", bucket("+Inf"), FieldBucket, uint64(3)))
	require.True(t, acc.HasPoint("m", tags, FieldCount, uint64(3)))
	require.True(t, acc.HasPoint("m", tags, FieldSum, 0.0035))
	require.True(t, acc.HasPoint("m", tags, FieldMax, 0.002))
	require.True(t, acc.HasPoint("m", tags, FieldMin, 0.0006))
	require.False(t, acc.HasField("m", FieldIntervalCount), "cumulative mode has no interval fields")
}

// Every series carries the same bounds, populated or not, so sum by (le)
// across series and hosts stays exact.
func TestEmitSameBoundsForEverySeries(t *testing.T) {
	e := NewEmitter(Options{})
	now := time.Unix(1700000000, 0)
	bounds := func(iv Interval) []string {
		var acc testutil.Accumulator
		e.Emit(&acc, "m", map[string]string{}, &iv, now)
		var les []string
		for _, m := range acc.GetTelegrafMetrics() {
			if le, ok := m.GetTag(TagBound); ok {
				les = append(les, le)
			}
		}
		return les
	}
	var fast, slow Interval
	fast.Slots[2] = 5
	slow.Slots[25] = 1
	require.Equal(t, bounds(fast), bounds(slow))
	require.Equal(t, bounds(fast), bounds(Interval{}))
	require.Len(t, bounds(fast), Slots)
}
