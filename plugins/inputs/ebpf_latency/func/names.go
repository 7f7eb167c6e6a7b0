package funcprobe

import "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"

// Measurement is the func probe's metric name.
const Measurement = "ebpf_func_latency"

// Tags of every series; TagCgroup only on those of functions with by_cgroup.
const (
	TagBinary   = "binary"
	TagFunction = "function"
	TagCgroup   = cgroup.TagName
)

// Mirror of enum func_counter in bpf/func/func.h (bpf2go emits only types
// the object's BTF keeps).
var counterNames = []string{"nested_calls", "unmatched_returns", "stale_entries", "hist_full"}

// Counters the loader keeps itself.
const (
	counterAttached = "functions_attached"
	counterFailed   = "functions_failed"
)
