package funcprobe

import (
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// 100 calls of known sleeps: 50 of 21 ms, 40 of 25 ms, 10 of 41 ms. Each
// quantile's true value is at least the sleep of its rank (nearest rank: p50
// the 50th call, a 21 ms one; p90 a 25 ms one; p99 and p999 41 ms ones),
// since scheduling delay only lengthens calls. The estimate lies in the
// bucket holding the true value (the error bound the README states: one
// bucket width, tighter after clamping to the interval's min and max), so it
// is at least the lower bound of the bucket holding that sleep, and never
// above the interval's max. Exact quantiles of exact inputs are the
// estimator's table tests; this one proves the kernel-to-field path.
func TestQuantilesOfKnownSleeps(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	tests := []struct {
		scheme  histogram.Scheme
		atLeast map[string]float64 // field -> lower bound, seconds
	}{{
		scheme: histogram.Log2,
		atLeast: map[string]float64{
			"p50_seconds":  0.021, // min (>= 21 ms) raises the bucket's floor
			"p90_seconds":  0.021,
			"p99_seconds":  0.032768,
			"p999_seconds": 0.032768,
		},
	}, {
		scheme: histogram.Log2x4,
		atLeast: map[string]float64{
			"p50_seconds":  0.021,
			"p90_seconds":  0.024576,
			"p99_seconds":  0.04096,
			"p999_seconds": 0.04096,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.scheme.String(), func(t *testing.T) {
			p := newProbe(Config{{Binary: bin, Symbol: "do_work"}}, testutil.Logger{}).(*funcProbe)
			p.UseHistograms(histogram.Options{
				Scheme: tt.scheme, Layout: histogram.IntervalCounts, Quantiles: histogram.DefaultQuantiles,
			})
			require.NoError(t, p.Start())
			t.Cleanup(func() { require.NoError(t, p.Stop()) })

			startWorker(t, bin, "work", "50", "21", "40", "25", "10", "41").run(t)
			g := gatherInterval(t, p)
			require.Equal(t, uint64(100), g.count)
			requireNoCallBelowItsSleep(t, g.buckets, map[float64]uint64{0.021: 50, 0.025: 40, 0.041: 10})
			max := g.summary[histogram.FieldMax].(float64)
			for field, lower := range tt.atLeast {
				q, ok := g.summary[field].(float64)
				require.True(t, ok, "field %s", field)
				require.GreaterOrEqual(t, q, lower, field)
				require.LessOrEqual(t, q, max, "%s never above the interval's max", field)
			}

			g = gatherInterval(t, p)
			for field := range tt.atLeast {
				require.NotContains(t, g.summary, field, "no quantiles for an idle interval")
			}
		})
	}
}
