package bench

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// schemeVariant is one way to keep and write histograms, as a config sets it.
type schemeVariant struct {
	name string
	opts histogram.Options
}

// schemeVariants: the first is the user-space work Gather did before
// quantiles; the second, the default, is the base of the ratios.
var schemeVariants = []schemeVariant{
	{`log2, quantiles = []`, histogram.Options{}},
	{`log2 (default)`, pluginDefaults},
	{`log2, bucket_counts = "interval"`, histogram.Options{Layout: histogram.IntervalCounts, Quantiles: histogram.DefaultQuantiles}},
	{`buckets = "log2x4"`, histogram.Options{Scheme: histogram.Log2x4, Quantiles: histogram.DefaultQuantiles}},
	{`log2x4, bucket_counts = "interval"`, histogram.Options{Scheme: histogram.Log2x4, Layout: histogram.IntervalCounts, Quantiles: histogram.DefaultQuantiles}},
}

// writeSchemeTable measures Gather of n series under each variant, each
// gather finding new samples in every series (Advance, untimed), side by
// side in one run. Smoke runs check every variant gathers all series.
func writeSchemeTable(t *testing.T, report io.Writer, n int, full bool) {
	type row struct {
		lines, allocs int64
		ms, memMiB    float64
	}
	var rows []row
	for _, v := range schemeVariants {
		f, err := NewGatherFixture(n, v.opts)
		require.NoError(t, err)
		require.NoError(t, f.Advance())
		var acc Discard
		got, err := f.Gather(&acc)
		require.NoError(t, err)
		require.Equal(t, n, got, "%s: series read", v.name)
		require.Equal(t, n, acc.Series, "%s: summary lines", v.name)
		r := row{lines: int64(acc.Lines)}
		if full {
			res := testing.Benchmark(func(b *testing.B) { benchGatherAdvancing(b, f) })
			memlock, err := memlockOf(f)
			require.NoError(t, err)
			r.ms, r.allocs, r.memMiB = float64(res.NsPerOp())/1e6, res.AllocsPerOp(), float64(memlock)/(1<<20)
		}
		f.Close()
		rows = append(rows, r)
	}
	if !full {
		return
	}
	fmt.Fprintf(report, "### Gather by bucket scheme and layout: %d series, each gaining samples every interval\n\n", n)
	fmt.Fprintln(report, "| variant | lines/gather | ms/gather | vs default | allocs/gather | kernel memory of the map |")
	fmt.Fprintln(report, "|---|---:|---:|---:|---:|---:|")
	for i, v := range schemeVariants {
		r := rows[i]
		fmt.Fprintf(report, "| %s | %d | %.2f | %.2f× | %d | %.1f MiB |\n", v.name, r.lines, r.ms, r.ms/rows[1].ms, r.allocs, r.memMiB)
	}
	fmt.Fprintln(report)
}

// benchGatherAdvancing times Gather alone; samples are added between gathers.
func benchGatherAdvancing(b *testing.B, f *GatherFixture) {
	b.ReportAllocs()
	acc := &Discard{}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := f.Advance(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := f.Gather(acc); err != nil || n != f.Series {
			b.Fatalf("gather: %d of %d series: %v", n, f.Series, err)
		}
	}
}

// memlockOf is the kernel memory the fixture's histogram map is charged
// with (fdinfo's memlock).
func memlockOf(f *GatherFixture) (uint64, error) {
	fd := f.coll.Maps["bench_hists"].FD()
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "memlock:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no memlock in fdinfo of map fd %d", fd)
}
