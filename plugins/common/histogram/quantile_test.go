package histogram

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuantileField(t *testing.T) {
	for q, want := range map[float64]string{
		0.5: "p50_seconds", 0.9: "p90_seconds", 0.95: "p95_seconds", 0.99: "p99_seconds",
		0.999: "p999_seconds", 0.05: "p05_seconds", 0.25: "p25_seconds", 0.9999: "p9999_seconds",
	} {
		require.Equal(t, want, QuantileField(q))
	}
}

// record buckets samples by the definition, as the kernel would.
func record(scheme Scheme, samples []uint64) Interval {
	var iv Interval
	for i, ns := range samples {
		iv.Slots[slotByDefinition(scheme, ns)]++
		iv.SumNs += ns
		if i == 0 || ns < iv.MinNs {
			iv.MinNs = ns
		}
		iv.MaxNs = max(iv.MaxNs, ns)
	}
	iv.Sampled = len(samples) > 0
	return iv
}

// Hand-computed cases, each the reason for a line of quantileNs.
func TestQuantileByHand(t *testing.T) {
	one := record(Log2, []uint64{3_000_000})
	require.Equal(t, 3e6, quantileNs(Log2, &one, 1, 0.5), "one sample: min and max pin it")

	same := record(Log2x4, []uint64{5000, 5000, 5000, 5000})
	require.Equal(t, 5000.0, quantileNs(Log2x4, &same, 4, 0.99))

	// Four samples in (4096, 8192] ns... of log2: slot 3 is (4, 8] µs. No
	// min and max: rank 2 of 4 is halfway through the bucket.
	var open Interval
	open.Slots[3] = 4
	require.Equal(t, 6000.0, quantileNs(Log2, &open, 4, 0.5))
	require.Equal(t, 7000.0, quantileNs(Log2, &open, 4, 0.75))

	// Above the last bound only the max says where samples end: rank 1.98
	// of 2 is 98% of the way from 1073.741824 s to the max, 5000 s.
	huge := record(Log2, []uint64{1, 5_000_000_000_000})
	require.InDelta(t, 1073.741824e9+0.98*(5000e9-1073.741824e9), quantileNs(Log2, &huge, 2, 0.99), 1)
	huge.Sampled = false
	require.Equal(t, float64(Log2.UpperNs(Slots-2)), quantileNs(Log2, &huge, 2, 0.99), "no max: the last finite bound")
}

// exact is the nearest-rank quantile: the ceil(q*n)-th smallest sample.
func exact(sorted []uint64, q float64) float64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return float64(sorted[max(rank, 1)-1])
}

// Against the exact quantiles of known inputs: the estimate lies in the
// bucket of the exact sample, narrowed to [min, max], so its error is at
// most that width: relative 100% for log2, 25% for log2x4 (above 1 µs).
func TestQuantileErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	inputs := map[string]func() uint64{
		"uniform 1-100 ms": func() uint64 { return 1e6 + rng.Uint64N(99e6) },
		"exponential 2 ms": func() uint64 { return uint64(rng.ExpFloat64()*2e6) + 1 },
		"bimodal 80 us + 25 ms": func() uint64 {
			if rng.IntN(10) == 0 {
				return 25e6 + rng.Uint64N(1e6)
			}
			return 80e3 + rng.Uint64N(5e3)
		},
		"lognormal": func() uint64 { return uint64(math.Exp(rng.NormFloat64()*2+12)) + 1 },
	}
	for name, draw := range inputs {
		for _, scheme := range []Scheme{Log2, Log2x4} {
			for _, n := range []int{1, 2, 7, 100, 10_000} {
				samples := make([]uint64, n)
				for i := range samples {
					samples[i] = draw()
				}
				iv := record(scheme, samples)
				slices.Sort(samples)
				for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
					want := exact(samples, q)
					got := quantileNs(scheme, &iv, uint64(n), q)
					s := slotByDefinition(scheme, uint64(want))
					lo := max(float64(scheme.LowerNs(s)), float64(iv.MinNs))
					hi := min(float64(scheme.UpperNs(s)), float64(iv.MaxNs))
					require.True(t, got >= lo && got <= hi, "%s %s n=%d q=%v: estimate %v outside [%v, %v] holding %v",
						name, scheme, n, q, got, lo, hi, want)
					limit := 1.0
					if scheme == Log2x4 {
						limit = 0.25
					}
					if want > 1000 {
						require.LessOrEqual(t, math.Abs(got-want)/want, limit, "%s %s n=%d q=%v", name, scheme, n, q)
					}
				}
			}
		}
	}
}
