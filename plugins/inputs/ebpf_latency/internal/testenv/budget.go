//go:build linux

package testenv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// BudgetCutWarnings are the warnings in log that say the kernel memory
// budget cut a map.
func BudgetCutWarnings(log *testutil.CaptureLogger) []string {
	var cuts []string
	for _, w := range log.Warnings() {
		if strings.Contains(w, "memory budget") {
			cuts = append(cuts, w)
		}
	}
	return cuts
}

// RequireBudgetCut checks that the kernel holds m (its own answer, not the
// spec's) with as many entries as histogram.MapBudget holds on this machine,
// fewer than the asked series, and that log holds one budget warning: the
// one naming probe, m, those entries, asked, counter and keys.
func RequireBudgetCut(t testing.TB, log *testutil.CaptureLogger, probe string, m *ebpf.Map, asked uint32, counter, keys string) {
	t.Helper()
	info, err := m.Info()
	require.NoError(t, err)
	cpus, err := ebpf.PossibleCPU()
	require.NoError(t, err)
	perEntry := uint64(info.ValueSize) * uint64(cpus) // the kernel allocates each per-CPU value on every possible CPU
	require.Less(t, info.MaxEntries, asked, "the budget binds")
	require.LessOrEqual(t, uint64(info.MaxEntries)*perEntry, uint64(histogram.MapBudget), "within the budget")
	require.Greater(t, uint64(info.MaxEntries+1)*perEntry, uint64(histogram.MapBudget), "as many series as the budget holds")
	require.Equal(t, []string{fmt.Sprintf("W! [] %s: the kernel memory budget cuts %s to %d of the %d series the config asks: "+
		"samples of series beyond are lost, counted in %s; ask for fewer (%s) or, under buckets = \"log2x4\", use \"log2\"",
		probe, info.Name, info.MaxEntries, asked, counter, keys)}, BudgetCutWarnings(log))
}

// RequireNoBudgetCut checks that the kernel holds m with all the asked
// series, and that log holds no budget warning.
func RequireNoBudgetCut(t testing.TB, log *testutil.CaptureLogger, m *ebpf.Map, asked uint32) {
	t.Helper()
	info, err := m.Info()
	require.NoError(t, err)
	require.Equal(t, asked, info.MaxEntries, "the map holds every series asked")
	require.Empty(t, BudgetCutWarnings(log))
}
