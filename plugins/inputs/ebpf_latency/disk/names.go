package disk

import "strings"

// Measurement is the disk probe's metric name.
const Measurement = "ebpf_disk_latency"

// Mirrors of enum disk_op, disk_stage, disk_flag and disk_counter in
// bpf/disk/disk.h (bpf2go emits only types the object's BTF keeps).
var (
	opNames      = []string{"read", "write", "flush", "discard", "other"}
	stageNames   = []string{StageQueue, StageService}
	counterNames = []string{"untimed_completions", "preflush_unissued", "partial_completions", "inflight_full", "hist_full", "stale_start_times"}
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
