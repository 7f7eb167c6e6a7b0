package syscall

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// With by_cgroup, every slow event carries the cgroup tag of its series:
// its own cgroup's path while max_cgroups has room, "other" past it, the
// marked id for a cgroup removed before the gather. Which helper ran in
// which cgroup is the workload's own record; the events' counts per tag
// equal the slow calls issued there and the series' counts.
func TestSlowEventsCarryTheirSeriesCgroup(t *testing.T) {
	testenv.RequirePrivileged(t)
	comm := uniq("slowcg")
	cgs, hs := inCgroups(t, comm, 3)
	cfg := config([]string{"clock_nanosleep"}, []string{comm})
	cfg.ByCgroup, cfg.MaxCgroups, cfg.Threshold = true, 3, "5ms"
	p := startProbe(t, cfg)

	hs[0].do(t, "sleep %d 10", 3)
	hs[1].do(t, "sleep %d 10", 2)
	gone := testenv.NewCgroup(t) // the third slot, removed before the gather
	hg := startHelperIn(t, comm, gone)
	hg.do(t, "sleep %d 10", 1)
	endIn(t, hg, gone)
	hs[2].do(t, "sleep %d 10", 4) // past max_cgroups
	acc := gather(t, p)

	marked := `\id:` + strconv.FormatUint(gone.ID, 10)
	wantTag := map[uint64]string{ // by pid
		uint64(hs[0].Pid): cgs[0].Path, uint64(hs[1].Pid): cgs[1].Path,
		uint64(hs[2].Pid): cgroup.Folded, uint64(hg.Pid): marked,
	}
	perTag := map[string]uint64{}
	for _, e := range testenv.SlowEvents(acc) {
		tag, ok := e.GetTag(TagCgroup)
		require.True(t, ok, "event without a cgroup tag: %v", e)
		require.Equal(t, wantTag[e.Fields()["pid"].(uint64)], tag, "event of pid %v", e.Fields()["pid"])
		perTag[tag]++
	}
	want := map[string]uint64{cgs[0].Path: 3, cgs[1].Path: 2, cgroup.Folded: 4, marked: 1}
	require.Equal(t, want, perTag)
	for tag, n := range want {
		require.Equal(t, n, countIn(acc, "clock_nanosleep", comm, tag), "series %s", tag)
	}
}
