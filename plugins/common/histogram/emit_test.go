package histogram_test

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/lineproto"
)

// perLine hides AddSeries: the Emitter writes every bucket line with
// AddFields, as into telegraf's own accumulators.
type perLine struct {
	telegraf.Accumulator // nil: only AddFields is called
	b                    *lineproto.Buffer
}

func (p perLine) AddFields(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	p.b.AddFields(name, fields, tags, t...)
}

func TestBucketAdderWritesWhatAddFieldsWrites(t *testing.T) {
	for _, opts := range []histogram.Options{
		{Quantiles: histogram.DefaultQuantiles},
		{Scheme: histogram.Log2x4},
		{Layout: histogram.IntervalCounts, Quantiles: histogram.DefaultQuantiles},
	} {
		fast, slow := histogram.NewEmitter(opts), histogram.NewEmitter(opts)
		var fastOut, slowOut lineproto.Buffer
		var iv histogram.Interval
		for gather := range 3 {
			now := time.Unix(int64(1000+gather), 0)
			for series := range 5 {
				for s := series; s < opts.Scheme.Slots(); s += 7 {
					iv.Slots[s] += uint64(gather*series + s)
				}
				iv.SumNs += 12345
				iv.MaxNs, iv.MinNs, iv.Sampled = 9000, 3000, true
				tags := map[string]string{"device": "sd" + string(rune('a'+series)), "op": "read", "z": "1"}
				fast.Emit(lineproto.Accumulator{Buffer: &fastOut}, "m", tags, &iv, now)
				require.Len(t, tags, 3, "le removed again")
				slow.Emit(perLine{b: &slowOut}, "m", tags, &iv, now)
			}
		}
		require.NotEmpty(t, fastOut.String())
		require.Equal(t, slowOut.String(), fastOut.String(), "%+v", opts)
	}
}

// The kernel's per-CPU sum of nanoseconds is a u64 (hist_record): past
// 2^64 it wraps, and seconds_sum must keep growing, not fall to zero.
func TestSecondsSumCountsWraps(t *testing.T) {
	e := histogram.NewEmitter(histogram.Options{Layout: histogram.IntervalCounts})
	tags := map[string]string{"comm": "db"}
	gather := func(at int64, slot3 uint64, sumNs uint64) map[string]any {
		var iv histogram.Interval
		iv.Slots[3], iv.SumNs = slot3, sumNs
		var acc testutil.Accumulator
		e.Emit(&acc, "m", tags, &iv, time.Unix(at, 0))
		for _, m := range acc.GetTelegrafMetrics() {
			if _, ok := m.GetField(histogram.FieldSum); ok {
				return m.Fields()
			}
		}
		t.Fatal("no summary line")
		return nil
	}
	const wrapSeconds = 18446744073.709551616 // 2^64 ns
	near := uint64(1<<64 - 1000)
	require.InDelta(t, float64(near)/1e9, gather(1, 5, near)[histogram.FieldSum], 1e-6)

	// Two samples of 750 ns: the sum wrapped to 500.
	f := gather(2, 7, 500)
	require.InDelta(t, wrapSeconds+500e-9, f[histogram.FieldSum], 1e-5)
	require.InDelta(t, 1500e-9, f[histogram.FieldIntervalSum], 1e-12, "the interval's sum across the wrap")
	require.Equal(t, uint64(2), f[histogram.FieldIntervalCount])

	f = gather(3, 8, 1<<62) // and grows on from there
	require.InDelta(t, wrapSeconds+float64(uint64(1<<62))/1e9, f[histogram.FieldSum], 1e-5)

	// Recreated (a count went down): counted from zero, no wrap kept.
	f = gather(4, 1, 100)
	require.InDelta(t, 100e-9, f[histogram.FieldSum], 1e-15)
	require.Equal(t, uint64(1), f[histogram.FieldIntervalCount])

	// A low sum that went down with no count going down is a recreated
	// series too, never a wrap (only a sum above 2^63 can wrap).
	f = gather(5, 1, 50)
	require.InDelta(t, 50e-9, f[histogram.FieldSum], 1e-15)
}

// unchanged_series_every: a series without new samples is written again
// only that long after it was last written; one that gains samples is
// written at once, a new one at its first gather.
func TestUnchangedSeriesWrittenEvery(t *testing.T) {
	for _, layout := range []histogram.Layout{histogram.Cumulative, histogram.IntervalCounts} {
		e := histogram.NewEmitter(histogram.Options{Layout: layout, UnchangedEvery: 50 * time.Second})
		var iv histogram.Interval
		written := func(at int64) bool {
			var b lineproto.Buffer
			e.Emit(lineproto.Accumulator{Buffer: &b}, "m", map[string]string{"op": "read"}, &iv, time.Unix(at, 0))
			return b.Len() > 0
		}
		iv.Slots[4], iv.SumNs = 1, 9000
		require.True(t, written(0), "new")
		require.False(t, written(10), "unchanged for 10 s")
		iv.Slots[4], iv.SumNs = 2, 18000
		require.True(t, written(20), "a new sample")
		for _, at := range []int64{30, 40, 60, 69} {
			require.False(t, written(at), "unchanged for %d s", at-20)
		}
		require.True(t, written(70), "unchanged for 50 s: written again")
		require.False(t, written(80))
	}
}
