package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/lineproto"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// BenchmarkGather is one Gather as series grow: the full path into an
// accumulator that discards (our cost), into the plugin's line-protocol
// buffer (what the binary does before writing stdout: our cost plus
// serializing, through the Emitter's one-call-per-series bucket path), into
// testutil.Accumulator (adds telegraf metric construction and its own
// locking and append, cleared each iteration), and the kernel read alone.
func BenchmarkGather(b *testing.B) {
	testenv.RequirePrivileged(b)
	for _, n := range []int{100, 1_000, 10_000, 100_000} {
		f, err := NewGatherFixture(n, pluginDefaults)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("series=%d/discard", n), func(b *testing.B) { benchGather(b, f, &Discard{}) })
		b.Run(fmt.Sprintf("series=%d/lineproto", n), func(b *testing.B) { benchGather(b, f, lines()) })
		b.Run(fmt.Sprintf("series=%d/testutil", n), func(b *testing.B) {
			benchGather(b, f, &clearing{&testutil.Accumulator{}})
		})
		b.Run(fmt.Sprintf("series=%d/read-only", n), func(b *testing.B) { benchReadOnly(b, f) })
		f.Close()
		// unchanged_series_every: one series in 100 gains samples before
		// each gather (untimed), the others are written only every 45 s.
		if f, err = NewGatherFixture(n, writeUnchangedEvery45s); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("series=%d/lineproto-1%%-changed-unchanged_series_every=45s", n), func(b *testing.B) {
			benchGatherAdvancingEvery(b, f, lines(), 100)
		})
		f.Close()
	}
}

var writeUnchangedEvery45s = histogram.Options{Quantiles: histogram.DefaultQuantiles, UnchangedEvery: 45 * time.Second}

// benchGatherAdvancingEvery times Gather alone after adding samples to one
// series in every step (untimed).
func benchGatherAdvancingEvery(b *testing.B, f *GatherFixture, acc lineproto.Accumulator, step int) {
	b.ReportAllocs()
	defer reportCPU(b)()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := f.AdvanceEvery(step); err != nil {
			b.Fatal(err)
		}
		acc.Reset()
		untimed := cpuTime(b)
		b.StartTimer()
		if n, err := f.Gather(acc); err != nil || n != f.Series {
			b.Fatalf("gather: %d of %d series: %v", n, f.Series, err)
		}
		cpu += cpuTime(b) - untimed
	}
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "gather-cpu-ms/op")
}

// pluginDefaults are the histogram options of a config that sets none.
var pluginDefaults = histogram.Options{Quantiles: histogram.DefaultQuantiles}

// lines is the plugin binary's accumulator: lines written into memory.
func lines() lineproto.Accumulator {
	return lineproto.Accumulator{Buffer: &lineproto.Buffer{}, Errors: &Discard{}}
}

// clearing empties its accumulator before each gather so it does not grow.
type clearing struct{ *testutil.Accumulator }

func benchGather(b *testing.B, f *GatherFixture, acc telegraf.Accumulator) {
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		switch a := acc.(type) {
		case *clearing:
			a.ClearMetrics()
		case lineproto.Accumulator:
			a.Reset()
		}
		if n, err := f.Gather(acc); err != nil || n != f.Series {
			b.Fatalf("gather: %d of %d series: %v", n, f.Series, err)
		}
	}
}

func benchReadOnly(b *testing.B, f *GatherFixture) {
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if n, err := f.ReadOnly(); err != nil || n != f.Series {
			b.Fatalf("read: %d of %d series: %v", n, f.Series, err)
		}
	}
}

// reportCPU adds cpu-ms/op: the process's user and system CPU time (the
// kernel's share of batch lookups, the garbage collector) per op. On a
// shared machine wall time also counts waiting for a CPU; this does not.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() { b.ReportMetric(float64(cpuTime(b)-start)/1e6/float64(b.N), "cpu-ms/op") }
}

func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
