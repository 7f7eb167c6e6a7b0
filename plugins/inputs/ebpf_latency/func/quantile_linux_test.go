package funcprobe

import (
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// 100 calls of known sleeps: 50 of 21 ms, 40 of 25 ms, 10 of 41 ms. Each
// quantile's true value is a call of a known sleep (nearest rank: p50 the
// 50th call, a 21 ms one; p90 a 25 ms one; p99 and p999 41 ms ones), and
// the estimate must lie in the bucket holding that call, the error bound
// the README states (one bucket width, tighter after clamping to the
// interval's min and max). The sleeps sit well inside their buckets of
// either scheme (3.5 ms and more below the next bound), so scheduling delay
// does not move a call across a bound.
func TestQuantilesOfKnownSleeps(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	tests := []struct {
		scheme  histogram.Scheme
		buckets map[[2]string]uint64 // (gt, le) -> calls
		bounds  map[string][2]float64
	}{{
		scheme: histogram.Log2,
		buckets: map[[2]string]uint64{
			{"0.016384", "0.032768"}: 90,
			{"0.032768", "0.065536"}: 10,
		},
		bounds: map[string][2]float64{
			"p50_seconds":  {0.021, 0.032768}, // min (>= 21 ms) raises the bucket's floor
			"p90_seconds":  {0.021, 0.032768},
			"p99_seconds":  {0.032768, 0.065536},
			"p999_seconds": {0.032768, 0.065536},
		},
	}, {
		scheme: histogram.Log2x4,
		buckets: map[[2]string]uint64{
			{"0.02048", "0.024576"}:  50,
			{"0.024576", "0.028672"}: 40,
			{"0.04096", "0.049152"}:  10,
		},
		bounds: map[string][2]float64{
			"p50_seconds":  {0.021, 0.024576},
			"p90_seconds":  {0.024576, 0.028672},
			"p99_seconds":  {0.04096, 0.049152},
			"p999_seconds": {0.04096, 0.049152},
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
			require.Equal(t, tt.buckets, g.buckets)
			max := g.summary[histogram.FieldMax].(float64)
			for field, b := range tt.bounds {
				q, ok := g.summary[field].(float64)
				require.True(t, ok, "field %s", field)
				require.GreaterOrEqual(t, q, b[0], field)
				require.LessOrEqual(t, q, b[1], field)
				require.LessOrEqual(t, q, max, "%s never above the interval's max", field)
			}

			g = gatherInterval(t, p)
			for field := range tt.bounds {
				require.NotContains(t, g.summary, field, "no quantiles for an idle interval")
			}
		})
	}
}
