package bench

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// benchEnv selects the full table; anything else smoke-runs every variant.
const benchEnv = "EBPF_LATENCY_BENCH"

// plan is how much TestOverhead measures.
type plan struct {
	full         bool
	ios, rounds  int
	gatherSeries []int
	gathers      int
	gatherPause  time.Duration
}

func currentPlan() plan {
	if os.Getenv(benchEnv) == "full" {
		return plan{full: true, ios: 20_000, rounds: 5, gatherSeries: []int{100, 1_000, 10_000, 100_000},
			gathers: 10, gatherPause: 500 * time.Millisecond}
	}
	return plan{ios: 200, rounds: 1, gatherSeries: []int{100}, gathers: 2, gatherPause: 50 * time.Millisecond}
}

// TestOverhead measures every variant of every path side by side and prints
// the table. Its assertions only keep the harness honest: each variant's
// programs ran, and each probe counted exactly the events the workload
// caused. Timing is reported, never asserted.
func TestOverhead(t *testing.T) {
	testenv.RequirePrivileged(t)
	require.NoError(t, kernel.CheckPrerequisites())
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	require.NoError(t, err, "enabling BPF stats (Linux 5.8+)")
	defer stats.Close()
	pl := currentPlan()

	var report bytes.Buffer
	fmt.Fprintf(&report, "## Overhead, %s\n\n%s\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	var targets []Target

	for _, p := range Paths() {
		t.Run(p.Name, func(t *testing.T) {
			w, variants := p.Setup(t)
			n := pl.ios * p.Scale
			rows := RunRounds(t, w, variants, n, pl.rounds)
			if p.PerWorkloadEvent {
				for _, r := range rows {
					for i := range r.Samples {
						r.Samples[i].PerOp = true
					}
				}
			}
			checkHonest(t, rows, n)
			require.NoError(t, WriteTable(&report, p, rows))
			targets = append(targets, p.Targets(rows)...)
		})
	}

	t.Run("gather", func(t *testing.T) {
		if pl.full {
			fmt.Fprintln(&report, "### Gather (user space): ReadAll + Emit per gather, discarding accumulator")
			fmt.Fprintln(&report)
			fmt.Fprintln(&report, "| series | lines | ms/gather | allocs/gather | MB allocated/gather | read-only ms |")
			fmt.Fprintln(&report, "|---:|---:|---:|---:|---:|---:|")
		}
		var curve []float64 // ms per gather at each of pl.gatherSeries; timed in full runs only
		gatherTarget := notMeasured("Gather of 10,000 series (ReadAll + Emit, discarding)",
			fmt.Sprintf("≤ %d ms", limitGatherMs), notMeasuredInSmoke)
		for _, n := range pl.gatherSeries {
			f, err := NewGatherFixture(n, pluginDefaults)
			require.NoError(t, err)
			var acc Discard
			got, err := f.Gather(&acc)
			require.NoError(t, err)
			require.Equal(t, n, got, "series read")
			require.Equal(t, n, acc.Series, "summary lines emitted")
			if !pl.full {
				f.Close()
				continue
			}
			full := testing.Benchmark(func(b *testing.B) { benchGather(b, f, &Discard{}) })
			read := testing.Benchmark(func(b *testing.B) { benchReadOnly(b, f) })
			f.Close()
			ms := float64(full.NsPerOp()) / 1e6
			fmt.Fprintf(&report, "| %d | %d | %.2f | %d | %.1f | %.2f |\n", n, acc.Lines,
				ms, full.AllocsPerOp(), float64(full.AllocedBytesPerOp())/1e6, float64(read.NsPerOp())/1e6)
			curve = append(curve, ms)
			if n == targetSeries {
				gatherTarget = msTarget(gatherTarget.What, limitGatherMs, ms, fmt.Sprintf(" (%d allocs)", full.AllocsPerOp()))
			}
		}
		if pl.full {
			fmt.Fprintln(&report)
		}
		targets = append(targets, gatherTarget, linearTarget("Gather (ReadAll + Emit, discarding) linear", pl.gatherSeries, curve))
	})

	t.Run("schemes", func(t *testing.T) { writeSchemeTable(t, &report, 10_000, pl.full) })

	t.Run("memory", func(t *testing.T) {
		w, _ := DiskPath.Setup(t)
		dev := w.(*diskWorkload).dev
		stopLoad := Background(t, dev.Path, diskImageBytes)
		m := MeasureMemory(t, BuildPlugin(t), pl.gathers, pl.gatherPause)
		stopLoad()
		require.Positive(t, m.RSSKiB)
		require.GreaterOrEqual(t, m.HWMKiB, m.RSSKiB)
		fmt.Fprintf(&report, "### Memory: bin/telegraf-ebpf-latency, default config, fio load, %d gathers %v apart\n\n", m.Gathers, pl.gatherPause)
		fmt.Fprintf(&report, "VmRSS %.1f MiB, VmHWM %.1f MiB (%d lines printed).\n\n", mib(m.RSSKiB), mib(m.HWMKiB), m.Lines)
		targets = append(targets, rssTarget("plugin RSS (VmHWM), default config under fio load", m.HWMKiB))
	})

	fmt.Fprintln(&report, "### Targets (issue 9; the whole plugin under the shim and its RSS at 10,000 series: TestGatherUnderShim)")
	fmt.Fprintln(&report)
	WriteTargets(&report, targets)
	if pl.full {
		fmt.Print(report.String()) // outside t.Log: copy-pastable markdown
	} else {
		t.Log("smoke run (set EBPF_LATENCY_BENCH=full for the table):\n" + report.String())
	}
}

// checkHonest checks what the table rests on, not what it says. It does not
// stop the test, so the table still shows the round that went wrong.
func checkHonest(t *testing.T, rows []*Row, n int) {
	t.Helper()
	for _, r := range rows {
		for i, s := range r.Samples {
			round := i + 1
			assert.Equal(t, uint64(n), s.Work.Ops, "%s round %d: workload events", r.Name, round)
			if r.Role == Baseline {
				assert.Zero(t, s.Kernel.RunCount, "%s has no programs", r.Name)
				continue
			}
			assert.Positive(t, s.Kernel.RunCount, "%s round %d: program runs", r.Name, round)
			assert.Positive(t, s.Kernel.RunTimeNs, "%s round %d: program run time", r.Name, round)
			// The kernel skips a program that an event interrupts on its own
			// CPU (recursion miss): those may go unseen. Separately, about one
			// completion in 100,000 never reaches even an empty program on the
			// hook (docs/benchmarks.md, findings): tolerate that many, loudly.
			seen := s.Events + s.Kernel.Misses
			var skipped uint64
			if seen < s.Work.Ops {
				skipped = s.Work.Ops - seen
				t.Logf("%s round %d: the hook fired %d times for %d events (kernel-side skip)", r.Name, round, seen, s.Work.Ops)
			}
			assert.LessOrEqual(t, skipped, 1+s.Work.Ops/10000,
				"%s round %d: per-event program saw every workload event", r.Name, round)
			if r.Role != Probe {
				continue
			}
			// The hook's run count mixes in other devices' requests, so a
			// skipped completion of ours can hide behind one of theirs: the
			// same small allowance applies to the samples recorded.
			want := r.Records * s.Work.due()
			lost := r.Records * (s.Kernel.Misses + max(skipped, 1+s.Work.Ops/10000))
			assert.LessOrEqual(t, s.Recorded, want, "%s round %d: samples recorded", r.Name, round)
			assert.GreaterOrEqual(t, s.Recorded+lost, want,
				"%s round %d: samples recorded, %d recursion misses, %d skipped (health: %v)",
				r.Name, round, s.Kernel.Misses, skipped, s.Health)
			if s.Recorded < want {
				t.Logf("%s round %d: recorded %d of %d (kernel-side skip; see docs/benchmarks.md, findings)",
					r.Name, round, s.Recorded, want)
			}
		}
	}
}

// machine describes where the numbers come from.
func machine() string {
	var u unix.Utsname
	_ = unix.Uname(&u)
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("Machine: Linux %s, %d CPUs (%s), %s; load average at start: %s.",
		unix.ByteSliceToString(u.Release[:]), runtime.NumCPU(), model, runtime.Version(),
		strings.Join(strings.Fields(string(load))[:3], " "))
}
