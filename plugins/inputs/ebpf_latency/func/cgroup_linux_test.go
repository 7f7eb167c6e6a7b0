package funcprobe

import (
	"fmt"
	"slices"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// callsByCgroup gathers p and returns function fn's sample count per cgroup
// tag ("" for a series without one).
func callsByCgroup(t *testing.T, p *funcProbe, fn string) map[string]uint64 {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	counts := map[string]uint64{}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Tags()[TagFunction] != fn {
			continue
		}
		if c, ok := m.GetField("seconds_count"); ok {
			counts[m.Tags()[TagCgroup]] += c.(uint64)
		}
	}
	return counts
}

// One binary's function called in two cgroups: with by_cgroup, two series,
// each exactly its own worker's calls; a second function of the same
// binary without by_cgroup keeps one series, without the tag.
func TestByCgroupSplitsOnlyItsFunction(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	a, b := testenv.NewCgroup(t), testenv.NewCgroup(t)
	cfg := Config{{Binary: bin, Symbol: "do_work", ByCgroup: true}, {Binary: bin, Symbol: "nest"}}
	p := startProbe(t, cfg, nil, testutil.Logger{})

	startWorkerIn(t, a, bin, "work", "7", "1").run(t)
	startWorkerIn(t, b, bin, "work", "5", "1").run(t)
	startWorkerIn(t, a, bin, "nest", "3", "2", "1").run(t)
	startWorkerIn(t, b, bin, "nest", "4", "2", "1").run(t)
	require.Equal(t, map[string]uint64{a.Path: 7, b.Path: 5}, callsByCgroup(t, p, "do_work"))
	require.Equal(t, map[string]uint64{"": 7}, callsByCgroup(t, p, "nest"), "no by_cgroup: one series")
	require.Zero(t, p.Status().Counters["cgroup_folded"])
	requireSeriesWhere(t, p, map[uint32]bool{0: false, 1: true})
}

// requireSeriesWhere checks where the kernel keeps each function's series:
// in its row of func_rows (rowed[fn]) or, with by_cgroup, in func_hists
// under a cgroup, never both.
func requireSeriesWhere(t *testing.T, p *funcProbe, rowed map[uint32]bool) {
	t.Helper()
	coll := p.att.Collection
	var key funcbpf.FuncFuncHistKey
	var perCPU [][]byte
	hashed := map[uint32]bool{}
	it := coll.Maps[funcbpf.FuncMapFuncHists].Iterate()
	for it.Next(&key, &perCPU) {
		require.NotZero(t, key.Cgroup, "function %d: a series without cgroup belongs in its row", key.Fn)
		hashed[key.Fn] = true
	}
	require.NoError(t, it.Err())
	for fn, inRow := range rowed {
		require.NoError(t, coll.Maps[funcbpf.FuncMapFuncRows].Lookup(fn, &perCPU))
		held := slices.ContainsFunc(perCPU, func(b []byte) bool { return slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) })
		require.Equal(t, inRow, held, "function %d: series in its row", fn)
		require.Equal(t, !inRow, hashed[fn], "function %d: series in the hash", fn)
	}
}

// Past max_cgroups the calls of later cgroups fold into cgroup="other",
// each counted; `cgroups` leaves a third out, each call counted as
// excluded.
func TestFuncMaxCgroupsFoldAndFilter(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	a, b, c := testenv.NewCgroup(t), testenv.NewCgroup(t), testenv.NewCgroup(t)
	cfg := Config{{Binary: bin, Symbol: "do_work", ByCgroup: true, MaxCgroups: new(1), Cgroups: []string{a.Path, b.Path}}}
	p := startProbe(t, cfg, nil, testutil.Logger{})

	startWorkerIn(t, a, bin, "work", "6", "1").run(t)
	startWorkerIn(t, b, bin, "work", "4", "1").run(t)
	startWorkerIn(t, c, bin, "work", "3", "1").run(t)
	require.Equal(t, map[string]uint64{a.Path: 6, cgroup.Folded: 4}, callsByCgroup(t, p, "do_work"))
	st := p.Status().Counters
	require.Equal(t, uint64(4), st["cgroup_folded"])
	require.Equal(t, uint64(3), st["cgroup_excluded"])
}

// Functions with by_cgroup, each max_cgroups + 1 series, past the memory
// budget: the warning names func_hists' entries as the kernel holds them;
// one with max_cgroups = 1 gets every series, silently.
func TestFuncBudgetCutIsLogged(t *testing.T) {
	testenv.RequirePrivileged(t)
	const functions, maxCgroups = 32, 4096 // 32 × (4096 + "other"): above the budget on any host
	bin := buildFunctions(t, functions)
	cfg := make(Config, functions)
	for i := range cfg {
		cfg[i] = Function{Binary: bin, Symbol: fmt.Sprintf("f%d", i), ByCgroup: true, MaxCgroups: new(maxCgroups)}
	}
	log := &testutil.CaptureLogger{}
	p := startProbe(t, cfg, nil, log)
	require.Equal(t, functions, p.attached)
	testenv.RequireBudgetCut(t, log, "func", p.att.Collection.Maps[funcbpf.FuncMapFuncHists], functions*(maxCgroups+1),
		"hist_full", "max_cgroups, functions with by_cgroup")

	log = &testutil.CaptureLogger{}
	p = startProbe(t, Config{{Binary: bin, Symbol: "f0", ByCgroup: true, MaxCgroups: new(1)}}, nil, log) // (1 + "other") series
	testenv.RequireNoBudgetCut(t, log, p.att.Collection.Maps[funcbpf.FuncMapFuncHists], 2)
}
