package syscall

import (
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
)

// countIn is the sample count of one syscall of comm under cgroup tag cg.
func countIn(acc *testutil.Accumulator, syscall, comm, cg string) uint64 {
	s, _ := testenv.FindSeries(acc, Measurement, map[string]string{TagSyscall: syscall, TagComm: comm, TagCgroup: cg})
	return s.Count
}

// cgroupTags lists the cgroup tags of a gather.
func cgroupTags(acc *testutil.Accumulator) map[string]bool { return tagValues(acc, TagCgroup) }

// inCgroups starts one sysloop named comm in each of n new cgroups.
func inCgroups(t *testing.T, comm string, n int) ([]*testenv.Cgroup, []*helper) {
	t.Helper()
	cgs, hs := make([]*testenv.Cgroup, n), make([]*helper, n)
	for i := range cgs {
		cgs[i] = testenv.NewCgroup(t)
		hs[i] = startHelperIn(t, comm, cgs[i])
	}
	return cgs, hs
}

func byCgroup(comm string) *Config {
	cfg := config([]string{"fdatasync", "getpid"}, []string{comm})
	cfg.ByCgroup = true
	return cfg
}

// Two processes with the same comm in two cgroups are two series, each with
// exactly its own syscalls, through both hooks; a cgroup made after Start
// is found at the next gather.
func TestByCgroupTellsSameCommApart(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, hook := range []string{HookTPBTF, HookRawTP} {
		t.Run(hook, func(t *testing.T) {
			comm := uniq("twin")
			a := testenv.NewCgroup(t)
			ha := startHelperIn(t, comm, a)
			cfg := byCgroup(comm)
			cfg.Hook = hook
			p := startProbe(t, cfg)
			b := testenv.NewCgroup(t)
			hb := startHelperIn(t, comm, b)

			ha.do(t, "fdatasync %d", 7)
			ha.do(t, "getpid %d", 3)
			hb.do(t, "fdatasync %d", 5)
			acc := gather(t, p)
			require.Equal(t, uint64(7), countIn(acc, "fdatasync", comm, a.Path))
			require.Equal(t, uint64(3), countIn(acc, "getpid", comm, a.Path))
			require.Equal(t, uint64(5), countIn(acc, "fdatasync", comm, b.Path))
			require.Zero(t, countIn(acc, "getpid", comm, b.Path))
			require.Equal(t, map[string]bool{a.Path: true, b.Path: true}, cgroupTags(acc))
			require.Zero(t, p.Status().Counters["cgroup_folded"])
		})
	}
}

// Off, the key's cgroup is 0 and there is no tag: one series per comm.
func TestByCgroupOffHasNoTag(t *testing.T) {
	testenv.RequirePrivileged(t)
	comm := uniq("untag")
	_, h := inCgroups(t, comm, 2)
	ha, hb := h[0], h[1]
	p := startProbe(t, config([]string{"fdatasync"}, []string{comm}))
	ha.do(t, "fdatasync %d", 7)
	hb.do(t, "fdatasync %d", 5)
	acc := gather(t, p)
	require.Equal(t, uint64(12), count(acc, "fdatasync", comm))
	require.Equal(t, map[string]bool{"": true}, cgroupTags(acc), "no cgroup tag")
	require.Zero(t, p.Status().Counters["cgroup_excluded"])
}

// `cgroups` keeps the matching cgroup: the others' syscalls are not timed
// and are counted as excluded, including those of a cgroup made after
// Start, whose first samples are deleted with their series at the gather
// that judges it.
func TestCgroupsGlobKeepsOne(t *testing.T) {
	testenv.RequirePrivileged(t)
	comm := uniq("glob")
	cg, h := inCgroups(t, comm, 2)
	a, ha, hb := cg[0], h[0], h[1]
	cfg := byCgroup(comm)
	cfg.Cgroups = []string{a.Path}
	p := startProbe(t, cfg)

	ha.do(t, "fdatasync %d", 7)
	hb.do(t, "fdatasync %d", 5)
	acc := gather(t, p)
	require.Equal(t, uint64(7), countIn(acc, "fdatasync", comm, a.Path))
	require.Equal(t, map[string]bool{a.Path: true}, cgroupTags(acc))
	require.Equal(t, uint64(5), p.Status().Counters["cgroup_excluded"])

	c := testenv.NewCgroup(t)
	hc := startHelperIn(t, comm, c) // its readiness getpid: timed, not yet judged
	hc.do(t, "fdatasync %d", 4)
	acc = gather(t, p)
	require.Equal(t, map[string]bool{a.Path: true}, cgroupTags(acc), "judged at this gather: dropped")
	hc.do(t, "fdatasync %d", 6)
	ha.do(t, "fdatasync %d", 2)
	acc = gather(t, p)
	require.Equal(t, uint64(9), countIn(acc, "fdatasync", comm, a.Path))
	require.Equal(t, map[string]bool{a.Path: true}, cgroupTags(acc))
	require.Equal(t, uint64(5+6), p.Status().Counters["cgroup_excluded"], "excluded in the kernel once judged")
	require.Zero(t, p.Status().Counters[cgroup.CounterVerdictsFull])
}

// Past max_cgroups, samples fold into cgroup="other", exactly, and each
// folded sample is counted.
func TestMaxCgroupsFoldsIntoOther(t *testing.T) {
	testenv.RequirePrivileged(t)
	comm := uniq("fold")
	cg, h := inCgroups(t, comm, 3)
	a, ha, hb, hc := cg[0], h[0], h[1], h[2]
	cfg := config([]string{"fdatasync"}, []string{comm})
	cfg.ByCgroup, cfg.MaxCgroups = true, 1
	p := startProbe(t, cfg)

	ha.do(t, "fdatasync %d", 7)
	hb.do(t, "fdatasync %d", 5)
	hc.do(t, "fdatasync %d", 4)
	ha.do(t, "fdatasync %d", 7)
	acc := gather(t, p)
	require.Equal(t, uint64(14), countIn(acc, "fdatasync", comm, a.Path))
	require.Equal(t, uint64(5+4), countIn(acc, "fdatasync", comm, cgroup.Folded))
	require.Equal(t, map[string]bool{a.Path: true, cgroup.Folded: true}, cgroupTags(acc))
	require.Equal(t, uint64(5+4), p.Status().Counters["cgroup_folded"])
}

// A cgroup whose series went idle for expire_idle_series frees its
// max_cgroups slot: the next cgroup gets a series of its own, and the
// departed one, back, folds.
func TestIdleCgroupFreesItsSlot(t *testing.T) {
	testenv.RequirePrivileged(t)
	const expiry = 300 * time.Millisecond
	comm := uniq("idle")
	cg, h := inCgroups(t, comm, 2)
	a, b, ha, hb := cg[0], cg[1], h[0], h[1]
	cfg := config([]string{"fdatasync"}, []string{comm})
	cfg.ByCgroup, cfg.MaxCgroups = true, 1
	p := startProbe(t, cfg, func(p *syscallProbe) { p.ExpireIdleSeries(expiry) })

	ha.do(t, "fdatasync %d", 3)
	require.Equal(t, uint64(3), countIn(gather(t, p), "fdatasync", comm, a.Path))
	time.Sleep(expiry + 100*time.Millisecond)
	require.NotContains(t, cgroupTags(gather(t, p)), a.Path, "idle for the expiry time: no longer written")

	hb.do(t, "fdatasync %d", 4)
	ha.do(t, "fdatasync %d", 2)
	acc := gather(t, p)
	require.Equal(t, uint64(4), countIn(acc, "fdatasync", comm, b.Path), "the newcomer took the freed slot")
	require.Equal(t, uint64(2), countIn(acc, "fdatasync", comm, cgroup.Folded))
	require.Equal(t, map[string]bool{b.Path: true, cgroup.Folded: true}, cgroupTags(acc))
	require.Equal(t, uint64(2), p.Status().Counters["cgroup_folded"])
}

// endIn lets h's sysloop exit and removes its cgroup.
func endIn(t *testing.T, h *helper, cg *testenv.Cgroup) {
	t.Helper()
	require.NoError(t, h.In.Close()) // sysloop exits at end of input
	require.Eventually(t, func() bool { return len(cg.Pids(t)) == 0 }, 5*time.Second, 10*time.Millisecond)
	cg.Remove(t)
}

// A cgroup removed before the plugin read its path keeps its samples under
// a marked tag.
func TestRemovedCgroupIsMarked(t *testing.T) {
	testenv.RequirePrivileged(t)
	comm := uniq("gone")
	p := startProbe(t, byCgroup(comm))
	a := testenv.NewCgroup(t)
	ha := startHelperIn(t, comm, a)
	ha.do(t, "fdatasync %d", 3)
	endIn(t, ha, a)
	acc := gather(t, p)
	marked := `\id:` + strconv.FormatUint(a.ID, 10)
	require.Equal(t, uint64(3), countIn(acc, "fdatasync", comm, marked))
	require.Equal(t, map[string]bool{marked: true}, cgroupTags(acc))
}

// A restarted service gets a new cgroup at the same path: the new one takes
// the path's tag (a counter reset there), the old one's samples stay under
// its marked id; no two series share a tag.
func TestRestartedCgroupTakesThePath(t *testing.T) {
	testenv.RequirePrivileged(t)
	comm := uniq("again")
	p := startProbe(t, byCgroup(comm))
	old := testenv.NewCgroup(t)
	h := startHelperIn(t, comm, old)
	h.do(t, "fdatasync %d", 5)
	require.Equal(t, uint64(5), countIn(gather(t, p), "fdatasync", comm, old.Path))
	endIn(t, h, old)

	restarted := testenv.NewCgroupAt(t, old.Path)
	require.NotEqual(t, old.ID, restarted.ID)
	h = startHelperIn(t, comm, restarted)
	h.do(t, "fdatasync %d", 2)
	acc := gather(t, p)
	marked := `\id:` + strconv.FormatUint(old.ID, 10)
	require.Equal(t, uint64(2), countIn(acc, "fdatasync", comm, old.Path))
	require.Equal(t, uint64(5), countIn(acc, "fdatasync", comm, marked))
	require.Equal(t, map[string]bool{old.Path: true, marked: true}, cgroupTags(acc))
}

// Cgroup names are anyone's to choose (a delegated subtree's owner, a
// container runtime): odd ones, the line protocol's own specials, a
// backslash, bytes that are not UTF-8, "other", keep a tag each, escaped,
// with their own counts, through the line protocol telegraf reads.
func TestOddCgroupNamesKeepTheirOwnSeries(t *testing.T) {
	testenv.RequirePrivileged(t)
	comm := uniq("oddcg")
	parent := testenv.NewCgroup(t)
	p := startProbe(t, byCgroup(comm))
	want := map[string]uint64{}
	for i, name := range []string{"other", "a b,c=d", `trail\`, "caf\xe9", "\xff\xfe", "tab\there", "ünï"} {
		cg := testenv.NewCgroupAt(t, parent.Path+"/"+name)
		h := startHelperIn(t, comm, cg)
		h.do(t, "fdatasync %d", i+1) // a count of its own, so a merge shows
		want[tagvalue.Escape(cg.Path)] = uint64(i + 1)
	}
	acc := testenv.ThroughLineProtocol(t, gather(t, p))
	testenv.RequireDistinctSeries(t, acc, Measurement)
	got := map[string]uint64{}
	for tag := range cgroupTags(acc) {
		got[tag] = countIn(acc, "fdatasync", comm, tag)
	}
	require.Equal(t, want, got)
}

// max_comms and max_cgroups at their limits ask for more series than the
// kernel memory budget holds: the probe starts and names the size the
// kernel gave syscall_hists; a small config gets every series, silently.
func TestSyscallBudgetCutIsLogged(t *testing.T) {
	testenv.RequirePrivileged(t)
	cfg := DefaultConfig()
	cfg.MaxComms, cfg.ByCgroup, cfg.MaxCgroups = 4096, true, 4096 // (4096 + "other")² × 10 syscalls: above the budget on any host
	log := &testutil.CaptureLogger{}
	p := startProbe(t, cfg, func(p *syscallProbe) { p.log = log })
	testenv.RequireBudgetCut(t, log, "syscall", p.att.Collection.Maps[syscallbpf.SyscallMapSyscallHists], 4097*4097*10,
		"hist_full", "max_comms, syscalls, max_cgroups")

	log = &testutil.CaptureLogger{}
	cfg = config([]string{"fsync"}, nil)
	cfg.MaxComms = 1 // (1 + "other") series
	p = startProbe(t, cfg, func(p *syscallProbe) { p.log = log })
	testenv.RequireNoBudgetCut(t, log, p.att.Collection.Maps[syscallbpf.SyscallMapSyscallHists], 2)
}
