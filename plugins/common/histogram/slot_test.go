package histogram

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram/internal/cslot"
)

// slotByDefinition is the bucket rule of histogram.h: the smallest slot
// whose bound is at least ns, the last (+Inf) when none is.
func slotByDefinition(scheme Scheme, ns uint64) int {
	for s := 0; s < scheme.Slots()-1; s++ {
		if ns <= scheme.UpperNs(s) {
			return s
		}
	}
	return scheme.Slots() - 1
}

// The kernel's division-free slot functions, compiled from
// bpf/headers/histogram.bpf.h for the host, equal the definition: at and
// around every bound, from 0 to the largest value, and on a dense sweep.
func TestKernelSlotMatchesDefinition(t *testing.T) {
	require.True(t, cslot.Available, "this test compiles the kernel's C for the host: it needs cgo and a C compiler")
	for _, tt := range []struct {
		scheme Scheme
		kernel func(uint64) int
	}{{Log2, cslot.Log2}, {Log2x4, cslot.Log2x4}} {
		t.Run(tt.scheme.String(), func(t *testing.T) {
			check := func(ns uint64) {
				if got, want := tt.kernel(ns), slotByDefinition(tt.scheme, ns); got != want {
					t.Fatalf("ns=%d: kernel slot %d, definition %d", ns, got, want)
				}
			}
			for s := 0; s < tt.scheme.Slots()-1; s++ {
				b := tt.scheme.UpperNs(s)
				check(b - 1)
				check(b) // a sample equal to the bound is inside it
				check(b + 1)
			}
			for _, ns := range []uint64{0, 1, 999, 1000, 1001, 1 << 40, 1000<<30 + 1, 1 << 63, math.MaxUint64} {
				check(ns)
			}
			for ns := uint64(0); ns < 3_000_000; ns += 7 {
				check(ns)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for range 200_000 {
				check(rng.Uint64() >> rng.IntN(64))
			}
		})
	}
}

func TestLog2x4Bounds(t *testing.T) {
	tests := []struct {
		slot  int
		label string
	}{
		{0, "0.000001"},
		{1, "0.00000125"},
		{2, "0.0000015"},
		{3, "0.00000175"},
		{4, "0.000002"},
		{5, "0.0000025"},
		{8, "0.000004"},
		{44, "0.002048"},
		{45, "0.00256"},
		{SlotsX4 - 2, "1073.741824"},
		{SlotsX4 - 1, "+Inf"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.label, Log2x4.BoundLabel(tt.slot), "slot %d", tt.slot)
	}
	// Every log2 bound is a log2x4 bound: the finer scheme refines the coarser.
	for s := 0; s < Slots-1; s++ {
		require.Equal(t, Log2.BoundLabel(s), Log2x4.BoundLabel(4*s), "log2 slot %d", s)
	}
	// Relative width at most 25% above the first bucket.
	for s := 1; s < SlotsX4-1; s++ {
		lo, hi := Log2x4.LowerNs(s), Log2x4.UpperNs(s)
		require.LessOrEqual(t, float64(hi-lo)/float64(lo), 0.25, "slot %d", s)
	}
}
