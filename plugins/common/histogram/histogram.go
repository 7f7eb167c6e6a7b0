// Package histogram reads the latency histograms every probe keeps in kernel
// maps (layout: bpf/headers/histogram.h) and emits them through telegraf.
//
// Bucket semantics, stated once (and in histogram.h): under the default
// scheme, log2, slot 0 holds samples of at most 1 µs, slot k holds samples v
// with 2^(k-1) µs < v <= 2^k µs, and the last slot holds everything above
// 2^30 µs: BCC biolatency's power-of-two microsecond buckets. Under log2x4
// each power of two is cut into four equal parts, with bounds 1.25, 1.5,
// 1.75 and 2 times 2^k µs. Either way the `le` of a slot is a true upper
// bound: the kernel compares nanoseconds with the bound, so no sample
// exceeds its `le`.
package histogram

import (
	"math"
	"strconv"
)

// Scheme is a bucket layout: enum hist_scheme in bpf/headers/histogram.h.
type Scheme uint32

const (
	Log2   Scheme = 0 // powers of two microseconds (the default)
	Log2x4 Scheme = 1 // four linear sub-buckets per power of two
)

// Slot counts (HIST_SLOTS_LOG2, HIST_SLOTS_LOG2X4, HIST_MAX_SLOTS: the
// slots a value holds as compiled, before SetScheme cuts it to the scheme's).
const (
	Slots    = 32  // log2: 31 finite bounds and +Inf
	SlotsX4  = 122 // log2x4: 121 finite bounds and +Inf
	MaxSlots = SlotsX4
)

// Slots is how many slots the scheme uses, the last one +Inf.
func (s Scheme) Slots() int {
	if s == Log2x4 {
		return SlotsX4
	}
	return Slots
}

// UpperNs is slot's bound in nanoseconds; math.MaxUint64 for +Inf.
func (s Scheme) UpperNs(slot int) uint64 {
	if slot >= s.Slots()-1 {
		return math.MaxUint64
	}
	if s == Log2x4 && slot > 0 {
		k, j := (slot-1)/4, (slot-1)%4
		return uint64(250*(5+j)) << k
	}
	return 1000 << slot
}

// LowerNs is the bound below slot's: 0 for the first.
func (s Scheme) LowerNs(slot int) uint64 {
	if slot == 0 {
		return 0
	}
	return s.UpperNs(slot - 1)
}

// UpperBound is slot's `le` in seconds; +Inf for the overflow slot.
func (s Scheme) UpperBound(slot int) float64 {
	if slot >= s.Slots()-1 {
		return math.Inf(1)
	}
	return float64(s.UpperNs(slot)) / 1e9
}

// BoundLabel is slot's `le` tag value: exact decimal seconds, "+Inf" last.
func (s Scheme) BoundLabel(slot int) string {
	if slot >= s.Slots()-1 {
		return "+Inf"
	}
	return secondsText(s.UpperNs(slot))
}

// secondsText writes ns as decimal seconds without rounding: 1250 ns is
// "0.00000125" (a float would print 1.25e-06 or an inexact tail).
func secondsText(ns uint64) string {
	digits := strconv.FormatUint(ns, 10)
	for len(digits) < 10 {
		digits = "0" + digits
	}
	whole, frac := digits[:len(digits)-9], digits[len(digits)-9:]
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// UpperBound is the log2 scheme's Scheme.UpperBound.
func UpperBound(slot int) float64 { return Log2.UpperBound(slot) }

// BoundLabel is the log2 scheme's Scheme.BoundLabel.
func BoundLabel(slot int) string { return Log2.BoundLabel(slot) }

// Interval is one series merged across CPUs at one gather.
type Interval struct {
	Slots [MaxSlots]uint64 // cumulative since load, not yet summed across slots
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
