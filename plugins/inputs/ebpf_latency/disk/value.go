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

// Mirrors of DISK_CGROUP_UNKNOWN_ID and DISK_CGROUP_EXCLUDED_ID (disk.h):
// by_cgroup keys of requests without a kept cgroup, and of requests of
// cgroups the filter excludes (counted in completions only).
const (
	cgroupUnknownID  = 0
	cgroupExcludedID = ^uint64(1)
)
