package bench

import (
	"fmt"
	"slices"
)

// Spread is a median with the range it came from, over repeated rounds.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// Summarize reduces per-round values; NaN-free input is the caller's duty.
func Summarize(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	mid := len(v) / 2
	med := v[mid]
	if len(v)%2 == 0 {
		med = (v[mid-1] + v[mid]) / 2
	}
	return Spread{Median: med, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// Format prints the median and, over more than one round, its range.
func (s Spread) Format(verb string) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 {
		return fmt.Sprintf(verb, s.Median)
	}
	return fmt.Sprintf(verb+" ("+verb+"–"+verb+")", s.Median, s.Min, s.Max)
}
