// Package histogram reads the latency histograms every probe keeps in kernel
// maps (layout: bpf/headers/histogram.h) and emits them as Prometheus-style
// cumulative buckets through telegraf.
//
// Bucket semantics, stated once: slot 0 holds samples of at most 1 µs, slot k
// holds samples v with 2^(k-1) µs < v <= 2^k µs, and the last slot holds
// everything above 2^(Slots-2) µs. The `le` of slot k is therefore 2^k µs, a
// true upper bound; the kernel rounds nanoseconds up to whole microseconds
// before choosing the slot, so no sample exceeds its bound. These are BCC
// biolatency's power-of-two microsecond buckets.
package histogram

import (
	"math"
	"strconv"
)

// Slots is HIST_SLOTS in bpf/headers/histogram.h.
const Slots = 32

// Value mirrors struct hist: one CPU's share of one series.
type Value struct {
	Slots [Slots]uint64
	SumNs uint64
	MaxNs uint64
	Stamp uint64 // epoch+1 of the interval MaxNs and MinNs belong to; 0: none yet
	MinNs uint64
}

// UpperBound is slot's `le` in seconds; +Inf for the overflow slot.
func UpperBound(slot int) float64 {
	if slot >= Slots-1 {
		return math.Inf(1)
	}
	return math.Ldexp(1e-6, slot)
}

// BoundLabel is the `le` tag value of slot: plain decimal seconds, "+Inf" last.
func BoundLabel(slot int) string {
	if slot >= Slots-1 {
		return "+Inf"
	}
	return strconv.FormatFloat(UpperBound(slot), 'f', -1, 64)
}

// Interval is one series merged across CPUs at one gather.
type Interval struct {
	Slots [Slots]uint64 // cumulative since load, not yet summed across slots
	SumNs uint64
	MaxNs uint64 // largest sample of the interval that just ended; 0 if none
	MinNs uint64 // smallest sample of that interval; valid only if Sampled
	// Sampled says some CPU recorded a sample during the interval, so MinNs
	// and MaxNs are its true extremes.
	Sampled bool
}

// Count is the number of samples since load.
func (iv *Interval) Count() uint64 {
	var n uint64
	for _, c := range iv.Slots {
		n += c
	}
	return n
}

// Merge adds per-CPU values. Only extremes stamped with epoch (the interval
// being closed) count toward MaxNs and MinNs; older stamps belong to quieter
// intervals.
func Merge(perCPU []Value, epoch uint64) Interval {
	var iv Interval
	for i := range perCPU {
		iv.Add(&perCPU[i], epoch)
	}
	return iv
}

// Add merges one CPU's value into iv (see Merge).
func (iv *Interval) Add(v *Value, epoch uint64) {
	for s, c := range v.Slots {
		iv.Slots[s] += c
	}
	iv.SumNs += v.SumNs
	if v.Stamp != epoch+1 {
		return
	}
	iv.MaxNs = max(iv.MaxNs, v.MaxNs)
	if !iv.Sampled || v.MinNs < iv.MinNs {
		iv.MinNs = v.MinNs
	}
	iv.Sampled = true
}
