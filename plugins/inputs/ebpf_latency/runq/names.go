package runq

import (
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
)

// Measurement is the runq probe's metric name.
const Measurement = "ebpf_runq_latency"

// TagComm is the task name tag, present only when comms are configured.
const TagComm = "comm"

// TagCgroup is the cgroup tag, present only with by_cgroup: the cgroup of
// the task switched in.
const TagCgroup = cgroup.TagName

// CommOther is the comm tag of samples folded past max_comms (no escaped
// comm equals it).
const CommOther = tagvalue.Folded

// Mirrors of enum runq_series and runq_counter in bpf/runq/runq.h
// (bpf2go emits only types the object's BTF keeps).
const (
	seriesAll   = 0
	seriesComm  = 1
	seriesOther = 2
)

var counterNames = []string{"untimed_switches", "comm_folded", "hist_full", "clock_backwards", "migrated_waits"}
