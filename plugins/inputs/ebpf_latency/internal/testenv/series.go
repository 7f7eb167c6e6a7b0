package testenv

import (
	"strconv"
	"testing"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// Series is one histogram series as a gather wrote it.
type Series struct {
	Count   uint64
	Sum     float64
	Max     float64
	Buckets map[string]uint64 // le -> cumulative count
}

// FindSeries collects the series of measurement whose tags, le aside, are
// exactly tags; found is false when no summary line matched.
func FindSeries(acc *testutil.Accumulator, measurement string, tags map[string]string) (s Series, found bool) {
	s.Buckets = map[string]uint64{}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != measurement || !sameTags(m, tags) {
			continue
		}
		if le, ok := m.GetTag(histogram.TagBound); ok {
			v, _ := m.GetField(histogram.FieldBucket)
			s.Buckets[le] = asUint(v)
			continue
		}
		found = true
		c, _ := m.GetField(histogram.FieldCount)
		sum, _ := m.GetField(histogram.FieldSum)
		mx, _ := m.GetField(histogram.FieldMax)
		s.Count, s.Sum, s.Max = asUint(c), sum.(float64), mx.(float64)
	}
	return s, found
}

// asUint reads an integer field: uint64 as emitted, int64 once it went
// through the line protocol (which telegraf parses as signed).
// Ceiling is the loose upper bound (le) of samples of an injected delay.
// On a shared, busy machine wall clock bounds latency only from below: a
// sample may wait for a CPU for any time. Above a second it would be a unit
// or clock error, not load.
const (
	Ceiling        = "1.048576"
	CeilingSeconds = 1.048576
)

// RequireDelayed checks that each of the n samples of a workload that
// injected a delay took longer than le=below (the largest bound under the
// delay), and none exceeded Ceiling.
func RequireDelayed(t testing.TB, s Series, n uint64, below string) {
	t.Helper()
	require.Zero(t, s.Buckets[below], "no sample at or below le=%s, under the injected delay", below)
	require.Equal(t, n, s.Buckets[Ceiling], "every sample at or below le=%s", Ceiling)
}

func asUint(v any) uint64 {
	if i, ok := v.(int64); ok {
		return uint64(i)
	}
	return v.(uint64)
}

func sameTags(m telegraf.Metric, want map[string]string) bool {
	got := m.Tags()
	delete(got, histogram.TagBound)
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// RequireConsistent checks a series against ops, the operations the
// workload issued (its own count, not one read from the histogram): the
// count and the +Inf bucket each equal it; and the histogram's invariants:
// every bound is present, buckets cumulate, and the interval max fits under
// the first bound that holds every sample.
func RequireConsistent(t testing.TB, s Series, ops uint64) {
	t.Helper()
	require.Equal(t, ops, s.Count, "seconds_count: the operations the workload issued")
	require.Equal(t, ops, s.Buckets["+Inf"], "+Inf bucket: the operations the workload issued")
	scheme := Scheme()
	require.Len(t, s.Buckets, scheme.Slots(), "every bound of %s, +Inf included", scheme)
	var prev uint64
	for slot := 0; slot < scheme.Slots()-1; slot++ {
		le := scheme.BoundLabel(slot)
		c := s.Buckets[le]
		require.GreaterOrEqual(t, c, prev, "buckets are cumulative")
		prev = c
		if c == s.Count {
			bound, _ := strconv.ParseFloat(le, 64)
			require.LessOrEqual(t, s.Max, bound, "max %v above le=%s that holds all samples", s.Max, le)
			return
		}
	}
}
