package disk

import (
	"strings"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
)

// Measurement is the disk probe's metric name.
const Measurement = "ebpf_disk_latency"

// TagCgroup is the cgroup tag (by_cgroup); CgroupUnknown its value for
// requests whose creator the probe did not see (made before the probe
// attached, by the flush machinery, or not kept: cgroup_inflight_full). No
// cgroup's tag reads like it: those are paths, unit names (with a dot) or
// runtime/container.
const (
	TagCgroup     = cgroup.TagName
	CgroupUnknown = "unknown"
)

// Mirrors of enum disk_op, disk_stage, disk_flag and disk_counter in
// bpf/disk/disk.h (bpf2go emits only types the object's BTF keeps).
var (
	opNames      = []string{"read", "write", "flush", "discard", "other"}
	stageNames   = []string{StageQueue, StageService}
	counterNames = []string{"untimed_completions", "preflush_unissued", "partial_completions", "inflight_full", "hist_full", "stale_start_times", "cgroup_inflight_full", "cgroup_unknown", "owner_inflight_full"}
)

// stages is DISK_STAGES.
const stages = 2

const (
	flagSync     = 1
	flagFUA      = 2
	flagPreflush = 4
)

func opName(op uint8) string {
	if int(op) < len(opNames) {
		return opNames[op]
	}
	return "other"
}

func stageName(stage uint8) string {
	if int(stage) < len(stageNames) {
		return stageNames[stage]
	}
	return "unknown"
}

// flagsName renders the flags tag: "none", or names joined by "+", e.g. "sync+fua".
func flagsName(flags uint8) string {
	var parts []string
	for _, f := range []struct {
		bit  uint8
		name string
	}{{flagSync, "sync"}, {flagFUA, "fua"}, {flagPreflush, "preflush"}} {
		if flags&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}
