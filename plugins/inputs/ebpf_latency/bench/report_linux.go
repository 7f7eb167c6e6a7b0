package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteTable prints a path's rows as markdown: in-kernel cost first, as
// ratios taken within each round, then wall clock with its spread.
func WriteTable(w io.Writer, p Path, rows []*Row) error {
	base, err := firstOf(rows, Baseline)
	if err != nil {
		return err
	}
	var alt *Row
	altName := "alternative (none on this path)"
	if p.Alternative != "" {
		if alt, err = rowByName(rows, p.Alternative); err != nil {
			return err
		}
		altName = alt.Name
	}
	fmt.Fprintf(w, "### %s path: %s, %d rounds\n\n", p.Name, p.Event, len(base.Samples))
	fmt.Fprintln(w, "| variant | programs | in-kernel ns/event | × own floor | × "+altName+" | wall ns/event | wall Δ vs baseline, ns | hook runs/event |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		floorCol, altCol := "–", "–"
		if r.Floor != "" {
			if f, err := rowByName(rows, r.Floor); err == nil {
				floorCol = ratios(r, f).Format("%.2f×")
			}
		}
		if alt != nil && (r.Role == Probe || r.Role == Floor) {
			altCol = ratios(r, alt).Format("%.2f×")
		}
		kernel, runs := "–", "–"
		if r.Role != Baseline {
			kernel = perRound(r, func(s Sample) float64 { return s.KernelNsPerEvent() }).Format("%.0f")
			runs = perRound(r, func(s Sample) float64 { return float64(s.Events) / float64(s.Work.Ops) }).Format("%.2f")
		}
		delta := "–"
		if r != base {
			delta = deltas(r, base).Format("%+.0f")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Name, programList(r.Programs),
			kernel, floorCol, altCol, perRound(r, func(s Sample) float64 { return s.Work.WallNs }).Format("%.0f"), delta, runs)
	}
	writeAnomalies(w, rows)
	noise := perRound(base, func(s Sample) float64 { return s.Work.WallNs })
	runsNote := "Hook runs/event above 1 are other processes' events on the same hooks."
	if p.PerWorkloadEvent {
		runsNote = "In-kernel ns/event is all the variant's program run time divided by the workload's events, " +
			"not by hook runs: here one event runs the hook several times (hook runs/event), other processes' events included."
	}
	fmt.Fprintf(w, "\nWall-clock noise: the baseline's mean latency ranged %.0f–%.0f ns (%.1f%% of its median) over the rounds; "+
		"wall Δ smaller than that range is not resolved. %s\n\n",
		noise.Min, noise.Max, 100*(noise.Max-noise.Min)/noise.Median, runsNote)
	return nil
}

// writeAnomalies lists, per round, what the probes' health counters saw and
// any gap between the samples recorded and the events caused.
func writeAnomalies(w io.Writer, rows []*Row) {
	var lines []string
	for _, r := range rows {
		for i, s := range r.Samples {
			var parts []string
			if s.Work.Counted != 0 && s.Work.Counted != s.Work.Ops {
				parts = append(parts, fmt.Sprintf("kernel statistics counted %d events, the workload %d", s.Work.Counted, s.Work.Ops))
			}
			if r.Role == Probe && s.Recorded != r.Records*s.Work.due() {
				parts = append(parts, fmt.Sprintf("recorded %d samples for %d events", s.Recorded, s.Work.due()))
			}
			if r.Role != Baseline && s.Events+s.Kernel.Misses < s.Work.Ops {
				parts = append(parts, fmt.Sprintf("per-event program ran %d times for %d events", s.Events, s.Work.Ops))
			}
			if s.Kernel.Misses > 0 {
				parts = append(parts, fmt.Sprintf("recursion misses +%d", s.Kernel.Misses))
			}
			keys := make([]string, 0, len(s.Health))
			for k := range s.Health {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s +%d", k, s.Health[k]))
			}
			if len(parts) > 0 {
				lines = append(lines, fmt.Sprintf("- %s, round %d: %s", r.Name, i+1, strings.Join(parts, ", ")))
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nAnomalies during the measured runs (counters include other processes' events; a recursion miss is an event the kernel did not let the program see):\n\n%s\n", strings.Join(lines, "\n"))
	}
}

func firstOf(rows []*Row, role Role) (*Row, error) {
	for _, r := range rows {
		if r.Role == role {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no variant of role %d", role)
}

func programList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func perRound(r *Row, f func(Sample) float64) Spread {
	v := make([]float64, len(r.Samples))
	for i, s := range r.Samples {
		v[i] = f(s)
	}
	return Summarize(v)
}

// ratios divides r's in-kernel cost by ref's, round by round.
func ratios(r, ref *Row) Spread {
	var v []float64
	for i := range min(len(r.Samples), len(ref.Samples)) {
		if d := ref.Samples[i].KernelNsPerEvent(); d > 0 {
			v = append(v, r.Samples[i].KernelNsPerEvent()/d)
		}
	}
	return Summarize(v)
}

// deltas is r's wall clock minus ref's, round by round.
func deltas(r, ref *Row) Spread {
	var v []float64
	for i := range min(len(r.Samples), len(ref.Samples)) {
		v = append(v, r.Samples[i].Work.WallNs-ref.Samples[i].Work.WallNs)
	}
	return Summarize(v)
}

// Target is one line of the targets table.
type Target struct {
	What, Limit, Measured string
	Met                   bool
	Note                  string // why not met, or why not measured
}

// WriteTargets prints the targets as markdown.
func WriteTargets(w io.Writer, targets []Target) {
	fmt.Fprintln(w, "| target | limit | measured (median, range) | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, t := range targets {
		met := "no"
		if t.Met {
			met = "yes"
		}
		switch {
		case t.Measured == "–" && t.Note != "":
			met = t.Note // not measured: there is nothing to judge
		case t.Note != "":
			met += ": " + t.Note
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.What, t.Limit, t.Measured, met)
	}
	fmt.Fprintln(w)
}

// ratioTarget checks a probe variant's median ratio against a limit.
func ratioTarget(rows []*Row, what, variant, ref string, limit float64) Target {
	t := Target{What: what, Limit: fmt.Sprintf("≤ %.2f×", limit)}
	r, err1 := rowByName(rows, variant)
	f, err2 := rowByName(rows, ref)
	if err1 != nil || err2 != nil {
		t.Measured, t.Note = "–", "not measured"
		return t
	}
	s := ratios(r, f)
	t.Measured = s.Format("%.2f×")
	t.Met = s.N > 0 && s.Median <= limit
	return t
}
