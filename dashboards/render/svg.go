package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// cells is one capture as a gonum grid: column = time step, row = bucket
// (from lo up), value = samples; an empty cell is NaN, drawn blank.
type cells struct {
	c      capture
	lo, hi int
	steps  int
}

func (g cells) Dims() (int, int)   { return g.steps, g.hi - g.lo + 1 }
func (g cells) X(c int) float64    { return float64(c) * g.c.Step }
func (g cells) Y(r int) float64    { return float64(r) }
func (g cells) Z(c, r int) float64 { return g.value(g.lo+r, c) }

func (g cells) value(bucket, step int) float64 {
	row := g.c.Samples[bucket]
	if step >= len(row) || row[step] <= 0 {
		return math.NaN()
	}
	return row[step]
}

// writeSVG draws the capture as a heatmap like Grafana's (Oranges, one row
// per bucket, labelled by upper bound) into dir/<name>.svg.
func writeSVG(dir, name string, c capture) error {
	lo, hi, steps := rows(c)
	if hi < 0 {
		return fmt.Errorf("%s: no samples", name)
	}
	g := cells{c: c, lo: lo, hi: hi, steps: steps}
	pal, err := brewer.GetPalette(brewer.TypeAny, "Oranges", 9)
	if err != nil {
		return err
	}
	h := plotter.NewHeatMap(g, pal)
	h.Min, h.Max = 0, 0
	for r := lo; r <= hi; r++ {
		for s := range steps {
			if v := g.value(r, s); !math.IsNaN(v) {
				h.Max = math.Max(h.Max, v)
			}
		}
	}
	h.NaN = color.White
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = fmt.Sprintf("time (s); darkest cell: %.0f samples", h.Max)
	p.Y.Label.Text = "latency bucket (upper bound)"
	var ticks plot.ConstantTicks
	for r := lo; r <= hi; r++ {
		ticks = append(ticks, plot.Tick{Value: float64(r - lo), Label: strings.TrimSpace(bound(c.Bounds[r]))})
	}
	p.Y.Tick.Marker = ticks
	p.Add(h)
	width := vg.Length(max(steps, 20)) * 0.25 * vg.Inch
	return p.Save(width+2*vg.Inch, vg.Length(hi-lo+1)*0.3*vg.Inch+1.5*vg.Inch, filepath.Join(dir, name+".svg"))
}
