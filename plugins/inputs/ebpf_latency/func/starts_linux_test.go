package funcprobe

import (
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// stores are the places entry times can live; tests run through each.
var stores = []string{taskstarts.TaskStorage, taskstarts.Hash}

// startWithStore runs cfg with every function's start_times set to store
// and the fallback hash holding entries threads (0: the default).
func startWithStore(t *testing.T, cfg Config, store string, entries uint32) *funcProbe {
	t.Helper()
	for i := range cfg {
		cfg[i].StartTimes = store
	}
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	p := newProbe(cfg, testutil.Logger{}).(*funcProbe)
	p.startEntries = entries
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	if store != taskstarts.Auto {
		require.Equal(t, store, p.Status().StartTimes, "the pinned store runs")
	}
	return p
}

// More threads inside a function at once than the fallback hash holds:
// exactly the first entries are timed, each other one is counted in
// start_full when it enters and in unmatched_returns when it returns. Task
// storage times them all, and so does auto, which runs task storage here.
func TestThreadsBeyondStartRecords(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	const threads, entries = 8, 3
	for _, store := range append(stores, taskstarts.Auto) {
		t.Run(store, func(t *testing.T) {
			p := startWithStore(t, Config{{Binary: bin, Symbol: "do_work"}}, store, entries)
			startWorker(t, bin, "threads", itoa(threads), "100").run(t)
			s := gatherSeries(t, p, "worker", "do_work")
			st := p.Status().Counters
			lost := 0
			if store == taskstarts.Hash {
				lost = threads - entries
			}
			s.requireCalls(t, threads-lost)
			require.Equal(t, uint64(lost), st[taskstarts.CounterFull])
			require.Equal(t, uint64(lost), st["unmatched_returns"])
			require.Zero(t, st[taskstarts.CounterRefused])
			require.Zero(t, s.cumulative(t, "0.065536"), "each timed call spans its 100 ms sleep")
			if store == taskstarts.Auto { // the whole crowd timed: not the hash
				require.Equal(t, taskstarts.TaskStorage, p.Status().StartTimes)
			}
		})
	}
}

// A thread inside more distinct measured functions at once than its record
// has slots (FUNC_NEST = 4): the innermost is not timed, counted in
// start_full and unmatched_returns; the four around it are.
func TestNestedFunctionsBeyondSlots(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	const calls = 3
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			var cfg Config
			for _, fn := range []string{"chain1", "chain2", "chain3", "chain4", "chain5"} {
				cfg = append(cfg, Function{Binary: bin, Symbol: fn})
			}
			p := startWithStore(t, cfg, store, 0)
			startWorker(t, bin, "chain", itoa(calls), "2").run(t)
			for _, fn := range []string{"chain1", "chain2", "chain3", "chain4"} {
				gatherSeries(t, p, "worker", fn).requireCalls(t, calls)
			}
			st := p.Status().Counters
			require.Equal(t, uint64(calls), st[taskstarts.CounterFull])
			require.Equal(t, uint64(calls), st["unmatched_returns"])
			require.Zero(t, st["nested_calls"])
			require.Zero(t, st["stale_entries"])
		})
	}
}

// Task storage refuses a record when the kernel cannot allocate one. The
// probe's maps are made inside a memory cgroup, which is then left no room,
// and more threads call the function than the allocator's charged per-CPU
// caches hold. Each thread calls once and stays, so the kernel's own task
// storage tells which threads were refused: start_refused counts exactly
// those, each of their returns is unmatched, the others' calls are
// recorded, and nothing else counts.
func TestStartRefusedWithoutMemory(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	const threads = 400
	mem := testenv.NewMemoryCgroup(t)
	var p *funcProbe
	mem.Starve(t, func() {
		p = startWithStore(t, Config{{Binary: bin, Symbol: "do_work"}}, taskstarts.TaskStorage, 0)
	})
	w := startWorker(t, bin, "hold", itoa(threads)) // outside the cgroup: its threads cost it nothing
	w.release(t)
	w.await(t, "called")
	// The main thread never calls.
	kept, refused := mem.RequireRefused(t, p.att.Collection.Maps[funcbpf.FuncMapTaskStartsStorage], w.pid(), threads)

	gatherSeries(t, p, "worker", "do_work").requireCalls(t, kept)
	st := p.Status().Counters
	require.Equal(t, uint64(refused), st[taskstarts.CounterRefused])
	require.Equal(t, uint64(refused), st["unmatched_returns"], "each refused call's return")
	require.Zero(t, st[taskstarts.CounterFull])
	require.Zero(t, st["nested_calls"])
	require.Zero(t, st["stale_entries"])
	require.Zero(t, st["hist_full"])
	w.run(t)
}
