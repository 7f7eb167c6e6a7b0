package runq

import (
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"

	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
)

// sleepCounted has srv sleep n times and returns the kernel's count of its
// switch-ins meanwhile and the probe's untimed switch-ins (all tasks').
func sleepCounted(t *testing.T, p *runqProbe, srv *server, n int) (switchIns, untimedSwitches uint64) {
	t.Helper()
	s0, u0 := srv.switchIns(t), untimed(p)
	srv.sleep(t, n)
	return srv.switchIns(t) - s0, untimed(p) - u0
}

// cgroupTags lists the cgroup tags of a gather ("" for a series without one).
func cgroupTags(p *runqProbe, t *testing.T) map[string]bool {
	seen := map[string]bool{}
	for _, m := range gather(t, p).GetTelegrafMetrics() {
		if m.Name() == Measurement {
			seen[m.Tags()[TagCgroup]] = true
		}
	}
	return seen
}

// Two servers with one comm in two cgroups are two series, each with
// exactly the switch-ins the kernel counted for its own server, through
// every flavour: the cgroup is the switched-in task's, not the current one's.
func TestByCgroupTellsSameCommApart(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, fl := range everyFlavour {
		t.Run(fl.String(), func(t *testing.T) {
			cpu := testCPU(t)
			comm := uniqueComm("ebpfl-twin")
			a, b := testenv.NewCgroup(t), testenv.NewCgroup(t)
			sa, sb := startServerIn(t, comm, cpu, 1000, a), startServerIn(t, comm, cpu, 1000, b)
			cfg := DefaultConfig()
			cfg.Comms, cfg.ByCgroup = []string{comm}, true
			p := startProbe(t, fl.pin(cfg))

			switchInsA, untimedA := sleepCounted(t, p, sa, 30)
			switchInsB, untimedB := sleepCounted(t, p, sb, 20)

			acc := gather(t, p)
			ca, ok := findSeries(acc, map[string]string{TagComm: comm, TagCgroup: a.Path})
			require.True(t, ok, "no series for cgroup %s", a.Path)
			cb, ok := findSeries(acc, map[string]string{TagComm: comm, TagCgroup: b.Path})
			require.True(t, ok, "no series for cgroup %s", b.Path)
			requireSwitchIns(t, p, ca, switchInsA, untimedA)
			requireSwitchIns(t, p, cb, switchInsB, untimedB)
			require.GreaterOrEqual(t, ca.Count, uint64(30))
			require.GreaterOrEqual(t, cb.Count, uint64(20))
			require.Zero(t, p.Status().Counters["cgroup_folded"])
		})
	}
}

// Past max_cgroups the second cgroup's samples fold into cgroup="other",
// each counted; `cgroups` leaves a third cgroup out, each wait counted as
// excluded.
func TestMaxCgroupsFoldAndFilter(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		cpu := testCPU(t)
		comm := uniqueComm("ebpfl-fold")
		a, b, c := testenv.NewCgroup(t), testenv.NewCgroup(t), testenv.NewCgroup(t)
		sa, sb, sc := startServerIn(t, comm, cpu, 1000, a), startServerIn(t, comm, cpu, 1000, b), startServerIn(t, comm, cpu, 1000, c)
		cfg := DefaultConfig()
		cfg.Comms, cfg.ByCgroup, cfg.MaxCgroups = []string{comm}, true, 1
		cfg.Cgroups = []string{a.Path, b.Path}
		p := startProbe(t, fl.pin(cfg))

		switchInsA, untimedA := sleepCounted(t, p, sa, 10)
		switchInsB, untimedB := sleepCounted(t, p, sb, 15)
		switchInsC, untimedC := sleepCounted(t, p, sc, 12)

		acc := gather(t, p)
		ca, _ := findSeries(acc, map[string]string{TagComm: comm, TagCgroup: a.Path})
		requireSwitchIns(t, p, ca, switchInsA, untimedA)
		other, _ := findSeries(acc, map[string]string{TagComm: comm, TagCgroup: cgroup.Folded})
		requireSwitchIns(t, p, other, switchInsB, untimedB)
		st := p.Status().Counters
		require.Equal(t, other.Count, st["cgroup_folded"], "each folded sample counted")
		excluded := st["cgroup_excluded"]
		require.LessOrEqual(t, excluded, switchInsC, "no more exclusions than the excluded server's switch-ins")
		require.LessOrEqual(t, switchInsC-excluded, untimedC+1, "each switch-in of the excluded server counted")
		require.Equal(t, map[string]bool{a.Path: true, cgroup.Folded: true}, cgroupTags(p, t))
	})
}

// A comm filter and by_cgroup at their limits: runq_hists gets what the
// memory budget holds, and the warning says so; the default, one series,
// says nothing.
func TestRunqBudgetCutIsLogged(t *testing.T) {
	testenv.RequirePrivileged(t)
	cfg := DefaultConfig()
	cfg.Comms, cfg.MaxComms, cfg.ByCgroup, cfg.MaxCgroups = []string{"*"}, 4096, true, 4096 // (4096 + "other")²: above the budget on any host
	log := &testutil.CaptureLogger{}
	p := startProbe(t, cfg, func(p *runqProbe) { p.log = log })
	testenv.RequireBudgetCut(t, log, "runq", p.att.Collection.Maps[runqbpf.RunqMapRunqHists], 4097*4097, "hist_full", "max_comms, max_cgroups")

	log = &testutil.CaptureLogger{}
	p = startProbe(t, DefaultConfig(), func(p *runqProbe) { p.log = log }) // one series
	testenv.RequireNoBudgetCut(t, log, p.att.Collection.Maps[runqbpf.RunqMapRunqHists], 1)
}
