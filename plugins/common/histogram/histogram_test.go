package histogram

import (
	"math"
	"slices"
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

// cpuWords builds one CPU's value of shape sh: the stage's slots and head
// fields as given, everything else zero.
func cpuWords(sh Shape, stage int, slots map[int]uint64, head [headWords]uint64) []uint64 {
	v := make([]uint64, sh.Words())
	for s, c := range slots {
		v[sh.SlotWord(stage, s)] = c
	}
	for f, x := range head {
		v[sh.HeadWord(stage, f)] = x
	}
	return v
}

func TestMergeKeepsOnlyThisIntervalsExtremes(t *testing.T) {
	sh := One(Log2)
	// sum, max, stamp, min per CPU
	a := cpuWords(sh, 0, map[int]uint64{3: 2}, [headWords]uint64{100, 9000, 6 + 1, 10}) // stale extremes of a quieter interval
	b := cpuWords(sh, 0, map[int]uint64{3: 1, 5: 4}, [headWords]uint64{200, 5000, 7 + 1, 3000})
	c := cpuWords(sh, 0, nil, [headWords]uint64{0, 4000, 7 + 1, 2500})
	var iv Interval
	(&Series{shape: &sh, words: slices.Concat(a, b, c), epoch: 7}).Merge(0, &iv)
	require.Equal(t, uint64(3), iv.Slots[3])
	require.Equal(t, uint64(4), iv.Slots[5])
	require.Equal(t, uint64(7), iv.Count())
	require.Equal(t, uint64(300), iv.SumNs)
	require.Equal(t, uint64(5000), iv.MaxNs)
	require.Equal(t, uint64(2500), iv.MinNs)
	require.True(t, iv.Sampled)

	(&Series{shape: &sh, words: a, epoch: 7}).Merge(0, &iv)
	require.False(t, iv.Sampled, "only a stale stamp: no sample this interval")
	require.Zero(t, iv.MaxNs)
	require.Equal(t, uint64(2), iv.Count(), "the merge before left nothing behind")
}

// A value of several stages behind the probe's own words: each stage reads
// its own head and slots, the lead words sum across CPUs.
func TestMergeStagesOfOneValue(t *testing.T) {
	for _, scheme := range []Scheme{Log2, Log2x4} {
		sh := Shape{Scheme: scheme, Lead: 1, Stages: 2}
		require.Equal(t, 1+2*(4+scheme.Slots()), sh.Words())
		last := scheme.Slots() - 1
		cpu0 := cpuWords(sh, 1, map[int]uint64{0: 5, last: 1}, [headWords]uint64{77, 50, 1, 20})
		cpu0[0] = 6                           // the lead word
		cpu0[sh.SlotWord(0, 2)] = 9           // stage 0, beside stage 1
		cpu0[sh.HeadWord(0, HeadSumNs)] = 123 // stage 0's sum
		cpu1 := cpuWords(sh, 1, map[int]uint64{last: 2}, [headWords]uint64{3, 70, 1, 60})
		cpu1[0] = 4
		s := Series{shape: &sh, words: slices.Concat(cpu0, cpu1), epoch: 0}
		require.Equal(t, uint64(10), s.Lead(0))

		var iv Interval
		s.Merge(1, &iv)
		require.Equal(t, uint64(5), iv.Slots[0], scheme.String())
		require.Equal(t, uint64(3), iv.Slots[last])
		require.Equal(t, uint64(8), iv.Count())
		require.Equal(t, uint64(80), iv.SumNs)
		require.Equal(t, [2]uint64{20, 70}, [2]uint64{iv.MinNs, iv.MaxNs})

		s.Merge(0, &iv)
		require.Equal(t, uint64(9), iv.Slots[2])
		require.Equal(t, uint64(9), iv.Count())
		require.Equal(t, uint64(123), iv.SumNs)
		require.False(t, iv.Sampled)
	}
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
