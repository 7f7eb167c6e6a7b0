package histogram

import (
	"fmt"
	"maps"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"
)

// BudgetCuts notes the series maps MapBudget sized below what the config
// asks, so that the probe says so once it has started: samples of series
// beyond are lost. Keyed by map, so that a Prepare run again for a fallback
// hook notes each map once.
type BudgetCuts map[string]budgetCut

type budgetCut struct{ granted, asked uint32 }

// Fit is FitMap for the series map name of spec, noting whether the budget
// cut it.
func (c BudgetCuts) Fit(spec *ebpf.CollectionSpec, name string, asked uint32) (uint32, error) {
	granted, err := FitMap(spec.Maps[name], asked)
	if err != nil {
		return 0, fmt.Errorf("sizing %s: %w", name, err)
	}
	delete(c, name)
	if granted < asked {
		c[name] = budgetCut{granted: granted, asked: asked}
	}
	return granted, nil
}

// Warn logs one warning per cut map, naming the probe, the map, the series
// granted and asked, the counter of the samples lost, and what asks for
// fewer series: keys, or log2 buckets (log2x4's take 3.5 times the memory).
func (c BudgetCuts) Warn(log telegraf.Logger, probe, counter, keys string) {
	for _, name := range slices.Sorted(maps.Keys(c)) {
		cut := c[name]
		log.Warnf("%s: the kernel memory budget cuts %s to %d of the %d series the config asks: samples of series beyond are lost, counted in %s; "+
			"ask for fewer (%s) or, under buckets = \"log2x4\", use \"log2\"", probe, name, cut.granted, cut.asked, counter, keys)
	}
}
