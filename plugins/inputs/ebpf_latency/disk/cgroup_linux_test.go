package disk

import (
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// readIn has a dd started inside cg read n blocks of dev with O_DIRECT from
// block first on: n read requests created in cg.
func readIn(t *testing.T, cg *testenv.Cgroup, dev string, n, first int) {
	t.Helper()
	require.NoError(t, ddIn(cg, dev, n, first))
}

// ddIn is readIn for any goroutine.
func ddIn(cg *testenv.Cgroup, dev string, n, first int) error {
	cmd := cg.Enter(ddCommand(dev, n, first))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dd in %s: %v: %s", cg.Path, err, out)
	}
	return nil
}

// ddCommand reads n blocks of dev from block first with O_DIRECT.
func ddCommand(dev string, n, first int) *exec.Cmd {
	return exec.Command("dd", "if="+dev, "of=/dev/null", "iflag=direct",
		fmt.Sprintf("bs=%d", testenv.BlockSize), fmt.Sprintf("count=%d", n), fmt.Sprintf("skip=%d", first))
}

// readsUnder is the read count of dev's service stage under cgroup tag cg.
func readsUnder(acc *testutil.Accumulator, dev, cg string) uint64 {
	s, _ := findSeries(acc, map[string]string{"device": dev, "op": "read", "stage": StageService, TagCgroup: cg})
	return s.Count
}

// twoCgroups is a probe with by_cgroup on a fresh loop device after a
// process in cgroup a read readsA blocks of it, then one in b readsB.
type twoCgroups struct {
	p    *diskProbe
	acc  *testutil.Accumulator
	dev  string
	a, b *testenv.Cgroup
}

// readInTwo runs twoCgroups' workload; edit sets up the probe before Start.
func readInTwo(t *testing.T, readsA, readsB int, edit func(p *diskProbe, a, b *testenv.Cgroup)) twoCgroups {
	t.Helper()
	dev := loopOnTmpfs(t)
	w := twoCgroups{dev: dev.Name, a: testenv.NewCgroup(t), b: testenv.NewCgroup(t)}
	w.p = newProbe(byCgroup(dev.Name), testutil.Logger{}).(*diskProbe)
	edit(w.p, w.a, w.b)
	start(t, w.p)
	readIn(t, w.a, dev.Path, readsA, 0)
	readIn(t, w.b, dev.Path, readsB, readsA)
	w.acc = gather(t, w.p)
	return w
}

// reads is the read count of the device under cgroup tag cg.
func (w twoCgroups) reads(cg string) uint64 { return readsUnder(w.acc, w.dev, cg) }

func byCgroup(dev string) *Config {
	cfg := DefaultConfig()
	cfg.Devices, cfg.ByCgroup = []string{dev}, true
	return cfg
}

// Reads by processes in two cgroups land under each one's tag, exactly,
// through every hook flavour and through the insert/issue fallback of
// kernels without block_io_start; the queue stage is split alike.
func TestByCgroupCountsEachCgroupsReads(t *testing.T) {
	testenv.RequirePrivileged(t)
	const readsA, readsB = 7, 13
	for _, tt := range []struct {
		name, hook string
		noIOStart  bool
	}{
		{"tp_btf", "tp_btf", false},
		{"raw_tp", "raw_tp", false},
		{"tracepoint", "tracepoint", false},
		{"tp_btf/insert+issue", "tp_btf", true},
		{"tracepoint/insert+issue", "tracepoint", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := readInTwo(t, readsA, readsB, func(p *diskProbe, _, _ *testenv.Cgroup) {
				p.cfg.Hook, p.noIOStart = tt.hook, tt.noIOStart
			})
			require.Equal(t, uint64(readsA), w.reads(w.a.Path))
			require.Equal(t, uint64(readsB), w.reads(w.b.Path))
			require.Zero(t, w.reads(CgroupUnknown), "every read's creator seen")
			for _, cg := range []*testenv.Cgroup{w.a, w.b} {
				q, ok := findSeries(w.acc, map[string]string{"device": w.dev, "op": "read", "stage": StageQueue, TagCgroup: cg.Path})
				if ok { // kernel start times measure the queue stage
					require.Equal(t, w.reads(cg.Path), q.Count)
				}
			}
			for _, m := range w.acc.GetTelegrafMetrics() {
				_, tagged := m.GetTag(TagCgroup)
				require.True(t, tagged || m.Name() != Measurement, "every series carries the cgroup tag: %v", m)
			}
			require.Zero(t, w.p.Status().Counters["cgroup_folded"])
		})
	}
}

// Past max_cgroups the later cgroup's reads are one series "other", exact,
// and counted in cgroup_folded. The glob keeps the host's other cgroups
// from taking the one slot first.
func TestByCgroupFoldsPastMaxCgroups(t *testing.T) {
	testenv.RequirePrivileged(t)
	const readsA, readsB = 5, 9
	w := readInTwo(t, readsA, readsB, func(p *diskProbe, a, b *testenv.Cgroup) {
		p.cfg.MaxCgroups, p.cfg.Cgroups = 1, []string{a.Path, b.Path}
	})
	require.Equal(t, uint64(readsA), w.reads(w.a.Path))
	require.Zero(t, w.reads(w.b.Path))
	require.Equal(t, uint64(readsB), w.reads(cgroup.Folded))
	require.Equal(t, uint64(readsB), w.p.Status().Counters["cgroup_folded"])
}

// With `cgroups`, an excluded cgroup's reads are not measured but still
// counted as completions: the kernel's own count finds none missing.
func TestByCgroupFilterKeepsCompletionsExact(t *testing.T) {
	testenv.RequirePrivileged(t)
	const readsA, readsB = 6, 4
	w := readInTwo(t, readsA, readsB, func(p *diskProbe, a, _ *testenv.Cgroup) { p.cfg.Cgroups = []string{a.Path} })
	require.Equal(t, uint64(readsA), w.reads(w.a.Path))
	require.Zero(t, w.reads(w.b.Path))
	require.GreaterOrEqual(t, w.p.Status().Counters["cgroup_excluded"], uint64(readsB))
	require.Zero(t, w.p.Status().Counters["unseen_completions"], "excluded reads still counted as completions")
}

// Requests whose creator the probe could not keep (their disk_requests slot
// taken over by another request in flight) are measured under cgroup
// "unknown" and counted: with one slot and four readers on a slow disk, the
// reads split between the readers' cgroup and "unknown", summing to what
// they issued.
func TestByCgroupLossesCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	const readers, each = 4, 5
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	a := testenv.NewCgroup(t)
	p := newProbe(byCgroup(dev.Name), testutil.Logger{}).(*diskProbe)
	p.requestSlots = 1
	start(t, p)

	var wg sync.WaitGroup
	errs := make([]error, readers)
	for r := range readers {
		wg.Go(func() { errs[r] = ddIn(a, dev.Path, each, r*each) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	acc := gather(t, p)
	tagged, unknown := readsUnder(acc, dev.Name, a.Path), readsUnder(acc, dev.Name, CgroupUnknown)
	require.Equal(t, uint64(readers*each), tagged+unknown, "every read measured, under its cgroup or unknown")
	require.Positive(t, unknown, "readers in flight together found disk_requests full")
	c := p.Status().Counters
	// Every read without its cgroup is counted where it ends. Why (a slot
	// taken over) is counted where the takeover happens, without a lock:
	// two CPUs claiming the one slot in the same instant can leave one
	// takeover uncounted, so that counter only has to have seen them.
	require.GreaterOrEqual(t, c["cgroup_unknown"], unknown, "every read without its cgroup counted (other disks' too)")
	require.Positive(t, c["cgroup_inflight_full"], "slots taken over seen")
}

// Off costs nothing: the programs the kernel runs keep no cgroup, the
// block_io_start programs are not loaded, and there is no tag.
func TestByCgroupOffLeavesNoTrace(t *testing.T) {
	testenv.RequirePrivileged(t)
	off := DefaultConfig()
	refs := testenv.MapReferences(t, diskbpf.LoadDisk, func(spec *ebpf.CollectionSpec) error {
		return off.Attribution.Prepare(spec)
	}, diskbpf.DiskMapDiskRequests)
	for prog, n := range refs {
		require.Zero(t, n, "%s uses %s with by_cgroup off", prog, diskbpf.DiskMapDiskRequests)
	}

	dev := loopOnTmpfs(t)
	cfg := DefaultConfig()
	cfg.Devices = []string{dev.Name}
	p := startProbe(t, cfg)
	for _, prog := range []string{diskbpf.DiskProgDiskCreatedBtf, diskbpf.DiskProgDiskCreatedRaw, diskbpf.DiskProgDiskCreatedTp} {
		require.Nil(t, p.att.Collection.Programs[prog], "%s loaded with by_cgroup off", prog)
	}
	testenv.IssueDirect(t, dev.Path, false, 3, 0)
	acc := gather(t, p)
	s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": "read", "stage": StageService})
	require.True(t, ok, "one untagged series")
	require.Equal(t, uint64(3), s.Count)
}

// The flush machinery's own flush request is created by no submitter: an
// fdatasync's flush is measured under "unknown", exactly once per sync.
func TestByCgroupFlushIsUnknown(t *testing.T) {
	testenv.RequirePrivileged(t)
	const syncs = 3
	dev := loopOnTmpfs(t)
	p := startProbe(t, byCgroup(dev.Name))
	for range syncs {
		testenv.Fdatasync(t, dev.Path)
	}
	acc := gather(t, p)
	s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": "flush", "stage": StageService, TagCgroup: CgroupUnknown})
	require.True(t, ok, "no flush series under %q", CgroupUnknown)
	require.Equal(t, uint64(syncs), s.Count)
}

// by_cgroup with max_cgroups = 4096 multiplies disk_hists' keys past the
// memory budget: the warning names the entries the kernel's map has. The
// default config gets every series, without a warning.
func TestDiskBudgetCutIsLogged(t *testing.T) {
	testenv.RequirePrivileged(t)
	cfg := DefaultConfig()
	cfg.ByCgroup, cfg.MaxCgroups = true, 4096 // at least 64 keys × (4096 + "other", unknown, excluded): above the budget on any host
	log := &testutil.CaptureLogger{}
	p := newProbe(cfg, log).(*diskProbe)
	start(t, p)
	// The ask depends on the disks in /sys/block at start: tests that add
	// loop devices hold the kernel-tests lock, as this one does.
	testenv.RequireBudgetCut(t, log, "disk", p.att.Collection.Maps[diskbpf.DiskMapDiskHists], wantSeries(cfg.Flags, cfg.Attribution),
		"hist_full", "flags, max_cgroups")

	log = &testutil.CaptureLogger{}
	cfg = DefaultConfig() // 64 keys at least, 4096 at most: within the budget on hosts with few disks or CPUs
	p = newProbe(cfg, log).(*diskProbe)
	start(t, p)
	testenv.RequireNoBudgetCut(t, log, p.att.Collection.Maps[diskbpf.DiskMapDiskHists], wantSeries(cfg.Flags, cfg.Attribution))
}
