// Package console draws latency histograms for a terminal: BCC-style bar
// charts of one interval and a scrolling heatmap of many. It knows nothing
// of telegraf or eBPF: a histogram is its bucket bounds and counts.
package console

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Histogram is one interval of one series: Counts[i] samples fell in
// (Upper[i-1], Upper[i]] seconds (from 0 for i = 0); the last Upper may be
// +Inf.
type Histogram struct {
	Upper  []float64
	Counts []uint64
}

// barWidth is the distribution column's width, as in BCC's tools.
const barWidth = 40

// WriteHistogram draws h as BCC's tools do: one line per bucket from the
// first to the last non-empty one, bounds in microseconds, the count, and a
// bar of stars scaled to the largest count. An empty histogram draws nothing.
func WriteHistogram(w io.Writer, h Histogram) error {
	first, last, most := span(h.Counts)
	if last < 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%*s%-*s : count    distribution\n", 5, "", 19, "usecs")
	for i := first; i <= last; i++ {
		stars := int(h.Counts[i] * barWidth / most)
		fmt.Fprintf(&b, "%10s -> %-10s : %-8d |%s%s|\n",
			micros(lower(h.Upper, i)), micros(h.Upper[i]), h.Counts[i],
			strings.Repeat("*", stars), strings.Repeat(" ", barWidth-stars))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// span is the first and last non-empty bucket and the largest count; last
// is -1 when every bucket is empty.
func span(counts []uint64) (first, last int, most uint64) {
	first, last = -1, -1
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		most = max(most, c)
	}
	return first, last, most
}

func lower(upper []float64, i int) float64 {
	if i == 0 {
		return 0
	}
	return upper[i-1]
}

// micros writes a bound in seconds as microseconds: "1024", "1.25", "inf".
func micros(seconds float64) string {
	if math.IsInf(seconds, 1) {
		return "inf"
	}
	return strconv.FormatFloat(math.Round(seconds*1e8)/100, 'f', -1, 64)
}
