package histogram

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// MapBudget is the most kernel memory one per-CPU histogram map may take. A
// per-CPU hash preallocates max_entries values on every possible CPU, so a
// map sized for a 2-CPU test VM would take 64 times as much on a 128-CPU
// database host.
const MapBudget = 32 << 20

// FitMap sizes a per-CPU map for want entries within MapBudget on this
// machine. It returns the entries granted, fewer than want when the budget
// binds (samples of series beyond it are counted as lost by the probe).
func FitMap(m *ebpf.MapSpec, want uint32) (uint32, error) {
	if m == nil {
		return 0, fmt.Errorf("no such map")
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return 0, err
	}
	perEntry := uint64(m.ValueSize) * uint64(cpus)
	limit := uint32(max(MapBudget/max(perEntry, 1), 16))
	m.MaxEntries = max(min(want, limit), 1)
	return m.MaxEntries, nil
}
