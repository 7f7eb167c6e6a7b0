package disk

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// With by_cgroup, each slow read's event carries its series' cgroup tag:
// the reading dd's cgroup while max_cgroups has room, "other" past it.
// Every read is slow (a FUSE file sleeping 20 ms per I/O under the loop
// device), so the events per tag are exactly the reads issued there.
func TestSlowEventsCarryTheirSeriesCgroup(t *testing.T) {
	testenv.RequirePrivileged(t)
	const readsA, readsB = 3, 4
	slow := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	a, b := testenv.NewCgroup(t), testenv.NewCgroup(t)
	cfg := byCgroup(slow.Name)
	cfg.MaxCgroups, cfg.Cgroups = 1, []string{a.Path, b.Path} // the host's cgroups take no slot
	cfg.Threshold, cfg.Stages = "10ms", []string{StageService}
	p := startProbe(t, cfg)

	readIn(t, a, slow.Path, readsA, 0)
	readIn(t, b, slow.Path, readsB, readsA)
	acc := gather(t, p)

	perTag := map[string]uint64{}
	for _, e := range testenv.SlowEvents(acc) {
		tag, ok := e.GetTag(TagCgroup)
		require.True(t, ok, "event without a cgroup tag: %v", e)
		require.Equal(t, "dd", e.Fields()["comm"])
		perTag[tag]++
	}
	want := map[string]uint64{a.Path: readsA, cgroup.Folded: readsB}
	require.Equal(t, want, perTag)
	for tag, n := range want {
		require.Equal(t, n, readsUnder(acc, slow.Name, tag), "series %s", tag)
	}
}

// With by_cgroup off, slow events carry no cgroup tag, as their series.
func TestSlowEventsWithoutByCgroupHaveNoCgroupTag(t *testing.T) {
	testenv.RequirePrivileged(t)
	slow := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	a := testenv.NewCgroup(t)
	cfg := DefaultConfig()
	cfg.Devices, cfg.Threshold, cfg.Stages = []string{slow.Name}, "10ms", []string{StageService}
	p := startProbe(t, cfg)

	readIn(t, a, slow.Path, 2, 0)
	acc := gather(t, p)
	events := testenv.SlowEvents(acc)
	require.Len(t, events, 2)
	for _, e := range events {
		_, tagged := e.GetTag(TagCgroup)
		require.False(t, tagged, "%v", e)
	}
}
