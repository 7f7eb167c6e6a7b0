package console

import (
	"fmt"
	"io"
	"strings"
)

// shades draw a cell's count relative to the window's largest: blank for
// none, then nine steps up to '@'.
const shades = " .:-=+*#%@"

// Heatmap keeps the last Width intervals of one series and draws them with
// time from left to right and buckets from bottom to top.
type Heatmap struct {
	Width   int
	upper   []float64
	columns [][]uint64 // oldest first
}

// Add appends one interval; bounds come from the first histogram added.
func (m *Heatmap) Add(h Histogram) {
	if m.upper == nil {
		m.upper = h.Upper
	}
	m.columns = append(m.columns, append([]uint64(nil), h.Counts...))
	if len(m.columns) > m.Width {
		m.columns = m.columns[len(m.columns)-m.Width:]
	}
}

// Write draws the rows from the highest bucket any interval in the window
// reached down to the lowest, each labelled with its upper bound in
// microseconds, then a time axis. A window without samples draws nothing.
func (m *Heatmap) Write(w io.Writer) error {
	top, bottom, most := -1, len(m.upper), uint64(0)
	for _, col := range m.columns {
		first, last, colMost := span(col)
		if last < 0 {
			continue
		}
		top, bottom, most = max(top, last), min(bottom, first), max(most, colMost)
	}
	if top < 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%10s  last %d intervals, shades %q up to %d\n", "usecs", len(m.columns), shades[1:], most)
	for row := top; row >= bottom; row-- {
		fmt.Fprintf(&b, "%10s |", micros(m.upper[row]))
		for _, col := range m.columns {
			b.WriteByte(shade(col[row], most))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%10s +%s\n", "", strings.Repeat("-", len(m.columns)))
	_, err := io.WriteString(w, b.String())
	return err
}

// shade maps count to one of shades: any sample shows, the most is '@'.
func shade(count, most uint64) byte {
	if count == 0 {
		return shades[0]
	}
	steps := uint64(len(shades) - 1)
	return shades[(count*steps+most-1)/most]
}
