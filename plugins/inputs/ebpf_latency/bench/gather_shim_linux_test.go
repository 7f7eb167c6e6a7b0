package bench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// baselineEnv names a plugin binary built from another commit: the shim
// table then measures it beside this tree's, gather for gather.
const baselineEnv = "EBPF_LATENCY_BENCH_BASELINE_BIN"

// TestGatherUnderShim times the whole plugin as telegraf's execd runs it:
// from the stdin line to the last byte of that gather on stdout, with every
// series gaining samples before each gather, and reads its memory. Smoke
// runs check only that each gather writes exactly its lines.
func TestGatherUnderShim(t *testing.T) {
	testenv.RequirePrivileged(t)
	full := os.Getenv(benchEnv) == "full"
	sizes, gathers := []int{100}, 2
	if full {
		sizes, gathers = []int{100, 1_000, 10_000}, 7
	}
	bins := map[string]string{"this tree": BuildPlugin(t)}
	bins[sparse] = bins["this tree"]
	names := []string{"this tree", sparse}
	if b := os.Getenv(baselineEnv); b != "" {
		bins["baseline"], names = b, append([]string{"baseline"}, names...)
	}
	var report strings.Builder
	fmt.Fprintln(&report, "| binary | series | lines/gather | ms/gather, median (min–max) | VmRSS MiB | VmHWM MiB |")
	fmt.Fprintln(&report, "|---|---:|---:|---:|---:|---:|")
	targets := shimTargetsNotMeasured()
	for _, n := range sizes {
		runs := map[string]*shimRun{}
		for _, name := range names {
			every, step := 0, 1
			if name == sparse {
				every, step = 45, 100
			}
			runs[name] = &shimRun{g: StartShimGather(t, bins[name], n, every, step)}
		}
		for i := range gathers {
			for _, name := range names { // interleaved: drift hits both
				r := runs[name]
				require.NoError(t, r.g.Advance())
				out := r.g.Plugin.Gather(t)
				if want := r.g.LinesPerGather(); i > 0 || r.g.Every == 0 {
					require.Equal(t, want, out.Lines, "%s, %d series, gather %d: lines", name, n, i)
				}
				if i > 0 { // the first gather warms caches and buffers
					r.took = append(r.took, out.Took)
				}
				r.lines = out.Lines
			}
		}
		for _, name := range names {
			r := runs[name]
			rss, hwm := r.g.Plugin.Memory(t)
			r.g.Plugin.Stop()
			slices.Sort(r.took)
			median, lo, hi := ms(r.took[len(r.took)/2]), ms(r.took[0]), ms(r.took[len(r.took)-1])
			fmt.Fprintf(&report, "| %s | %d | %d | %.1f (%.1f–%.1f) | %.1f | %.1f |\n", name, n, r.lines,
				median, lo, hi, mib(rss), mib(hwm))
			if i := slices.Index(shimTargeted, name); i >= 0 && n == targetSeries {
				targets[2*i] = msTarget(targets[2*i].What, limitShimMs, median, fmt.Sprintf(" (%.1f–%.1f)", lo, hi))
				targets[2*i+1] = rssTarget(targets[2*i+1].What, hwm)
			}
		}
	}
	fmt.Fprint(&report, "\nTargets (issue 9):\n\n")
	WriteTargets(&report, targets)
	if full {
		fmt.Print("### Gather under the shim: stdin line to the last byte on stdout\n\n" + report.String())
	} else {
		t.Log("smoke run:\n" + report.String())
	}
}

// sparse is this tree with unchanged_series_every = "45s", one series in
// 100 gaining samples before each gather.
const sparse = `this tree, unchanged_series_every = "45s", 1% of series changed`

// shimTargeted are the binaries the shim targets are read from: the
// default, and the opt-in that emits unchanged series only every 45 s.
var shimTargeted = []string{"this tree", sparse}

// shimTargetsNotMeasured are the shim's target rows, time and RSS per
// binary of shimTargeted, before a 10,000-series run fills them in.
func shimTargetsNotMeasured() []Target {
	var targets []Target
	for _, name := range shimTargeted {
		what := fmt.Sprintf("plugin under the shim (%s), %d series", name, targetSeries)
		targets = append(targets,
			notMeasured(what+", stdin line to last byte", fmt.Sprintf("≤ %d ms", limitShimMs), notMeasuredInSmoke),
			notMeasured(what+", RSS (VmHWM)", fmt.Sprintf("< %d MiB", limitRSSMiB), notMeasuredInSmoke))
	}
	return targets
}

type shimRun struct {
	g     *ShimGather
	took  []time.Duration
	lines int
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func TestSplitGathersCountsLinesAcrossReads(t *testing.T) {
	first := "m,a=b v=1i 1\nebpf_latency_probe_not,x=y v=1i 1\n" + selfLine + "probe=x up=1i 1\n"
	second := selfLine + "probe=x up=1i 2\n" // a gather of its self line alone
	third := strings.Repeat("x v=1i 1\n", 50_000) + selfLine + "probe=x up=1i 3\n"
	stream := first + second + third
	for _, name := range []string{"whole", "one byte", "half"} {
		t.Run(name, func(t *testing.T) {
			src := strings.NewReader(stream)
			gathered := make(chan GatherOutput, 3)
			switch name {
			case "one byte":
				splitGathers(iotest.OneByteReader(src), gathered)
			case "half":
				splitGathers(iotest.HalfReader(src), gathered)
			default:
				splitGathers(src, gathered)
			}
			close(gathered)
			var lines []int
			for g := range gathered {
				lines = append(lines, g.Lines)
			}
			require.Equal(t, []int{3, 1, 50_001}, lines)
		})
	}
}
