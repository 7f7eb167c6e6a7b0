package disk

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// cgroupTagsOf lists the cgroup tags of a gather's series.
func cgroupTagsOf(acc *testutil.Accumulator) map[string]bool {
	tags := map[string]bool{}
	for _, m := range acc.GetTelegrafMetrics() {
		if tag, ok := m.GetTag(TagCgroup); ok && m.Name() == Measurement {
			tags[tag] = true
		}
	}
	return tags
}

// A cgroup whose series went idle for expire_idle_series stops being
// written and frees its max_cgroups slot: the next cgroup gets a series of
// its own, and the departed one, back, folds. The expired series'
// completions stay counted: the kernel's own count finds none missing. (The
// glob keeps the host's other cgroups from taking the one slot.)
func TestIdleCgroupFreesItsSlot(t *testing.T) {
	testenv.RequirePrivileged(t)
	const expiry = 300 * time.Millisecond
	dev := loopOnTmpfs(t)
	a, b := testenv.NewCgroup(t), testenv.NewCgroup(t)
	cfg := byCgroup(dev.Name)
	cfg.MaxCgroups, cfg.Cgroups = 1, []string{a.Path, b.Path}
	p := newProbe(cfg, testutil.Logger{}).(*diskProbe)
	p.ExpireIdleSeries(expiry)
	start(t, p)

	readIn(t, a, dev.Path, 3, 0)
	require.Equal(t, uint64(3), readsUnder(gather(t, p), dev.Name, a.Path))
	time.Sleep(expiry + 100*time.Millisecond)
	acc := gather(t, p)
	require.NotContains(t, cgroupTagsOf(acc), a.Path, "idle for the expiry time: no longer written")
	require.Zero(t, p.Status().Counters["unseen_completions"], "the expired series' completions still counted")

	readIn(t, b, dev.Path, 4, 3)
	readIn(t, a, dev.Path, 2, 7)
	acc = gather(t, p)
	require.Equal(t, uint64(4), readsUnder(acc, dev.Name, b.Path), "the newcomer took the freed slot")
	require.Equal(t, uint64(2), readsUnder(acc, dev.Name, cgroup.Folded))
	require.Equal(t, map[string]bool{b.Path: true, cgroup.Folded: true}, cgroupTagsOf(acc))
	require.Equal(t, uint64(2), p.Status().Counters["cgroup_folded"])
	require.Zero(t, p.Status().Counters["unseen_completions"])
}
