package bench

import (
	"fmt"
	"strings"
)

// Issue 9's limits, written once: the run reports them, never asserts them.
const (
	limitVsBpftrace    = 0.5 // every probe against the tool users reach for instead
	limitVsFloor       = 2.5 // every probe against empty programs on its hooks
	limitDiskVsFloor   = 2.0 // the disk probe, stricter
	limitGatherMs      = 10  // Gather of 10,000 series, ReadAll + Emit, discarding
	limitShimMs        = 50  // the plugin under the shim, 10,000 series
	limitRSSMiB        = 60  // plugin RSS at 10,000 series
	targetSeries       = 10_000
	linearPerDecade    = 10   // series ×10 → time ×10
	linearTolerance    = 1.25 // a decade may cost this much more per series and still count as linear
	notMeasuredInSmoke = "not measured: smoke run (EBPF_LATENCY_BENCH=full measures it)"
)

// probeTargets are a probe variant's two in-kernel targets: against its
// own floor and against the path's bpftrace equivalent alt (a row saying so
// where the path has none, alt empty).
func probeTargets(rows []*Row, variant, floor, alt string, floorLimit float64) []Target {
	vsAlt := notMeasured(variant+" vs bpftrace", fmt.Sprintf("≤ %.2f×", limitVsBpftrace),
		"not measured: no bpftrace equivalent on this path")
	if alt != "" {
		vsAlt = ratioTarget(rows, variant+" vs "+alt, variant, alt, limitVsBpftrace)
	}
	return []Target{vsAlt, ratioTarget(rows, variant+" vs "+floor, variant, floor, floorLimit)}
}

// msTarget is a time in milliseconds against its limit.
func msTarget(what string, limit, ms float64, detail string) Target {
	return Target{What: what, Limit: fmt.Sprintf("≤ %g ms", limit),
		Measured: fmt.Sprintf("%.2f ms%s", ms, detail), Met: ms <= limit}
}

// rssTarget is a resident set high-water mark against the RSS limit.
func rssTarget(what string, hwmKiB uint64) Target {
	return Target{What: what, Limit: fmt.Sprintf("< %d MiB", limitRSSMiB),
		Measured: fmt.Sprintf("%.1f MiB", mib(hwmKiB)), Met: mib(hwmKiB) < limitRSSMiB}
}

// mib is KiB in MiB.
func mib(kib uint64) float64 { return float64(kib) / 1024 }

// notMeasured is a target row for a figure this run does not take.
func notMeasured(what, limit, why string) Target {
	return Target{What: what, Limit: limit, Measured: "–", Note: why}
}

// linearTarget judges a cost curve over sizes growing tenfold: linear when
// no decade multiplies the time by more than linearPerDecade×linearTolerance
// (a cost per series that grows by a quarter per decade is not linear).
func linearTarget(what string, sizes []int, ms []float64) Target {
	limit := fmt.Sprintf("×%d per decade (each ≤ ×%.1f)", linearPerDecade, linearPerDecade*linearTolerance)
	if len(sizes) < 2 || len(sizes) != len(ms) {
		return notMeasured(what, limit, notMeasuredInSmoke)
	}
	t := Target{What: fmt.Sprintf("%s, %d to %d series", what, sizes[0], sizes[len(sizes)-1]), Limit: limit, Met: true}
	var steps []string
	for i := 1; i < len(sizes); i++ {
		growth := ms[i] / ms[i-1] * linearPerDecade * float64(sizes[i-1]) / float64(sizes[i]) // per decade
		steps = append(steps, fmt.Sprintf("×%.1f", growth))
		t.Met = t.Met && ms[i-1] > 0 && growth <= linearPerDecade*linearTolerance
	}
	t.Measured = strings.Join(steps, ", ")
	return t
}
