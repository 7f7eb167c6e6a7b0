// Command render draws heatmap captures of the dashboards' end-to-end test
// (EBPF_LATENCY_HEATMAP_CAPTURE) as text, for docs/heatmaps.md: one column
// per time step, one row per bucket (upper bound on the left, lowest at the
// bottom), shaded by the number of samples.
//
//	go run ./render capture.json...
//	go run ./render -svg dir capture.json...   (also writes dir/<capture>.svg)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// capture is what the test writes: cells per bucket (ascending le) and step.
type capture struct {
	Title   string      `json:"title"`
	Step    float64     `json:"step_seconds"`
	Bounds  []string    `json:"le"`
	Samples [][]float64 `json:"counts"`
}

// shades from empty to the panel's largest cell.
var shades = []rune(" ░▒▓█")

func main() {
	svgDir := flag.String("svg", "", "also write each capture as <dir>/<capture>.svg")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: render [-svg dir] capture.json...")
		os.Exit(2)
	}
	for _, path := range flag.Args() {
		var c capture
		data, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(data, &c)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "render: %s: %v\n", path, err)
			os.Exit(1)
		}
		c = withEmptyBuckets(c)
		draw(os.Stdout, c)
		if *svgDir != "" {
			if err := writeSVG(*svgDir, strings.TrimSuffix(filepath.Base(path), ".json"), c); err != nil {
				fmt.Fprintf(os.Stderr, "render: %v\n", err)
				os.Exit(1)
			}
		}
	}
}

// withEmptyBuckets adds the log2 bounds a capture lacks (interval buckets
// are written only when they gained samples), so that every row is one
// bucket and a gap shows as empty rows. Captures with other bounds are
// drawn as they are.
func withEmptyBuckets(c capture) capture {
	var all []string
	for le := 1e-6; le < 1100; le *= 2 {
		all = append(all, strconv.FormatFloat(le, 'f', -1, 64))
	}
	all = append(all, "+Inf")
	index := map[string]int{}
	for i, le := range all {
		index[le] = i
	}
	full := capture{Title: c.Title, Step: c.Step, Bounds: all, Samples: make([][]float64, len(all))}
	for b, le := range c.Bounds {
		i, ok := index[le]
		if !ok {
			return c
		}
		full.Samples[i] = c.Samples[b]
	}
	return full
}

// draw writes the heatmap, rows from one bucket above the highest non-empty
// one down to one below the lowest.
func draw(w io.Writer, c capture) {
	lo, hi, steps := rows(c)
	most := 0.0
	for _, row := range c.Samples {
		for _, v := range row {
			most = math.Max(most, v)
		}
	}
	fmt.Fprintf(w, "%s (%g s per column, darkest = %.0f samples)\n", c.Title, c.Step, most)
	if hi < 0 {
		fmt.Fprintln(w, "  (no samples)")
		return
	}
	for b := hi; b >= lo; b-- {
		var row strings.Builder
		for s := range steps {
			v := 0.0
			if s < len(c.Samples[b]) {
				v = c.Samples[b][s]
			}
			row.WriteRune(shade(v, most))
		}
		fmt.Fprintf(w, "%12s │%s\n", bound(c.Bounds[b]), strings.TrimRight(row.String(), " "))
	}
	fmt.Fprintf(w, "%12s └%s\n", "", strings.Repeat("─", steps))
}

// rows is the bucket range to draw, one empty bucket beyond the highest and
// lowest non-empty ones (hi < 0: no samples), and the number of steps.
func rows(c capture) (lo, hi, steps int) {
	lo, hi = len(c.Bounds), -1
	for b, row := range c.Samples {
		steps = max(steps, len(row))
		for _, v := range row {
			if v > 0 {
				lo, hi = min(lo, b), max(hi, b)
			}
		}
	}
	if hi < 0 {
		return lo, hi, steps
	}
	return max(lo-1, 0), min(hi+1, len(c.Bounds)-1), steps
}

func shade(v, most float64) rune {
	if v <= 0 || most <= 0 {
		return shades[0]
	}
	return shades[int(math.Ceil(v/most*float64(len(shades)-1)))]
}

// bound labels a bucket by its upper bound in readable units.
func bound(le string) string {
	f, err := strconv.ParseFloat(le, 64)
	switch {
	case err != nil || math.IsInf(f, 1):
		return "> last"
	case f < 1e-3:
		return fmt.Sprintf("≤ %.0f µs", f*1e6)
	case f < 1:
		return fmt.Sprintf("≤ %.1f ms", f*1e3)
	}
	return fmt.Sprintf("≤ %.2f s", f)
}
