package disk

import "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"

// valueShape is struct disk_hists under scheme: the completions count, then
// both stages' histograms.
func valueShape(scheme histogram.Scheme) histogram.Shape {
	return histogram.Shape{Scheme: scheme, Lead: 1, Stages: stages}
}

// leadCompletions is the word of struct disk_hists counting requests
// finished, measured or not.
const leadCompletions = 0
