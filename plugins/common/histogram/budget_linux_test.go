package histogram

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"
)

func TestFitMapKeepsWithinBudget(t *testing.T) {
	cpus, err := ebpf.PossibleCPU()
	require.NoError(t, err)
	m := &ebpf.MapSpec{Type: ebpf.PerCPUHash, ValueSize: 280}

	got, err := FitMap(m, 10)
	require.NoError(t, err)
	require.Equal(t, uint32(10), got, "small wants are granted")

	got, err = FitMap(m, 1<<30)
	require.NoError(t, err)
	require.Equal(t, got, m.MaxEntries)
	require.LessOrEqual(t, uint64(got)*280*uint64(cpus), uint64(MapBudget))
	require.Greater(t, uint64(got+1)*280*uint64(cpus), uint64(MapBudget), "as large as the budget allows")
}
