package histogram

import "math"

// quantileNs estimates the q-quantile of the samples counted in the first
// scheme.Slots() slots of iv (one interval's gains): it finds the bucket
// holding the sample of rank q*n and interpolates linearly inside it,
// narrowing the bucket to the interval's min and max when they are known.
// The sample of that rank lies in the same narrowed bucket, so the error is
// at most the bucket's width. n must be positive.
func quantileNs(scheme Scheme, iv *Interval, n uint64, q float64) float64 {
	rank := q * float64(n)
	var below uint64
	last := scheme.Slots() - 1
	for s := 0; s <= last; s++ {
		c := iv.Slots[s]
		if c == 0 || float64(below+c) < rank {
			below += c
			continue
		}
		lower, upper := float64(scheme.LowerNs(s)), float64(scheme.UpperNs(s))
		if s == last {
			upper = math.Inf(1)
		}
		if iv.Sampled {
			lower = max(lower, float64(iv.MinNs))
			upper = max(min(upper, float64(iv.MaxNs)), lower)
		}
		if math.IsInf(upper, 1) { // +Inf and no max: the bound is all we know
			upper = lower
		}
		return lower + (upper-lower)*(rank-float64(below))/float64(c)
	}
	return float64(iv.MaxNs) // not reached: the last bucket holds rank n
}
