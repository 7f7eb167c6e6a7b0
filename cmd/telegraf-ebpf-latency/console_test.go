package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
	"github.com/stretchr/testify/require"
)

// gatherOf builds one gather's lines: cumulative buckets per series (by
// the value of tag dev), plus a summary line and a self-metric the view
// must ignore.
func gatherOf(cumulative map[string][]uint64) []telegraf.Metric {
	les := []string{"0.000001", "0.000002", "0.000004", "+Inf"}
	var ms []telegraf.Metric
	for dev, counts := range cumulative {
		for i, c := range counts {
			ms = append(ms, metric.New("m", map[string]string{"dev": dev, "le": les[i]},
				map[string]any{"seconds_bucket": c}, time.Time{}))
		}
		ms = append(ms, metric.New("m", map[string]string{"dev": dev},
			map[string]any{"seconds_count": counts[len(counts)-1]}, time.Time{}))
	}
	ms = append(ms, metric.New("ebpf_latency_probe", map[string]string{"probe": "disk"},
		map[string]any{"up": int64(1)}, time.Time{}))
	return ms
}

// Two gathers of known cumulative buckets: each prints the interval's own
// counts (the second gather's are differences), a quiet series prints
// nothing, and the heatmap grows by a column per interval.
func TestConsoleView(t *testing.T) {
	v := newView()
	var b strings.Builder
	at := func(s int) time.Time { return time.Date(2026, 1, 2, 12, 0, s, 0, time.UTC) }

	require.NoError(t, v.render(&b, gatherOf(map[string][]uint64{
		"a": {0, 3, 5, 5},
		"b": {0, 0, 0, 0},
	}), at(1)))
	require.Equal(t, ""+
		"=== 12:00:01\n"+
		"\n"+
		"m dev=a: 5 samples\n"+
		"     usecs               : count    distribution\n"+
		"         1 -> 2          : 3        |****************************************|\n"+
		"         2 -> 4          : 2        |**************************              |\n"+
		"\n"+
		"     usecs  last 1 intervals, shades \".:-=+*#%@\" up to 3\n"+
		"         4 |*\n"+
		"         2 |@\n"+
		"           +-\n",
		b.String())

	b.Reset()
	require.NoError(t, v.render(&b, gatherOf(map[string][]uint64{
		"a": {1, 4, 8, 9},
		"b": {0, 0, 0, 0},
	}), at(2)))
	require.Equal(t, ""+
		"=== 12:00:02\n"+
		"\n"+
		"m dev=a: 4 samples\n"+
		"     usecs               : count    distribution\n"+
		"         0 -> 1          : 1        |********************                    |\n"+
		"         1 -> 2          : 0        |                                        |\n"+
		"         2 -> 4          : 2        |****************************************|\n"+
		"         4 -> inf        : 1        |********************                    |\n"+
		"\n"+
		"     usecs  last 2 intervals, shades \".:-=+*#%@\" up to 3\n"+
		"       inf | -\n"+
		"         4 |**\n"+
		"         2 |@ \n"+
		"         1 | -\n"+
		"           +--\n",
		b.String())
}

// A series whose counts went down was recreated: all of it is new.
func TestConsoleViewAfterReset(t *testing.T) {
	v := newView()
	require.Equal(t, []uint64{0, 3, 2, 0}, v.interval("s", []uint64{0, 3, 5, 5}))
	require.Equal(t, []uint64{1, 0, 0, 0}, v.interval("s", []uint64{1, 1, 1, 1}))
}

// -console on the real kernel: run-queue latency (context switches never
// stop) arrives as a histogram and a heatmap each interval, and SIGINT ends
// the run with status 0.
func TestConsoleRuns(t *testing.T) {
	config := filepath.Join(t.TempDir(), "runq.conf")
	require.NoError(t, os.WriteFile(config, []byte("[[inputs.ebpf_latency]]\n  probes = [\"runq\"]\n  buckets = \"log2x4\"\n"), 0o600))
	p := startPlugin(t, "-console", "-config", config, "-poll_interval", "200ms")
	lines := p.readLines()
	seen := map[string]int{}
	timeout := time.After(20 * time.Second)
	for seen["==="] < 3 {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "stdout closed early")
			for _, want := range []string{"===", "ebpf_runq_latency: ", "     usecs               : count    distribution", "  last "} {
				if strings.HasPrefix(line, want) || strings.Contains(line, want) {
					seen[want]++
				}
			}
		case <-timeout:
			t.Fatalf("three intervals not printed within 20s; saw %v", seen)
		}
	}
	require.Positive(t, seen["ebpf_runq_latency: "], "the series' title")
	require.Positive(t, seen["     usecs               : count    distribution"], "a histogram")
	require.Positive(t, seen["  last "], "a heatmap")

	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	go func() {
		for range lines {
		}
	}()
	select {
	case err := <-p.exited:
		p.exited <- err
		require.NoError(t, err, "exit status after SIGINT")
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGINT")
	}
}

// The title carries the interval's min, quantiles (in quantile order, as
// configured) and max from the summary line, in microseconds.
func TestConsoleTitleExtremes(t *testing.T) {
	require.Equal(t, ", min 28.2, p50 48.9, p95 120.0, p99 991.8, p999 3668.4, max 7712.2 usecs", extremes(map[string]any{
		"seconds_count": uint64(9), "seconds_sum": 0.1,
		"seconds_min": 28.2e-6, "seconds_max": 7712.2e-6, "p99_seconds": 991.8e-6,
		"p999_seconds": 3668.4e-6, "p50_seconds": 48.9e-6, "p95_seconds": 120e-6,
	}))
	require.Empty(t, extremes(map[string]any{"seconds_count": uint64(9), "seconds_max": 0.0}),
		"an interval without samples has no min: nothing to show")
}
