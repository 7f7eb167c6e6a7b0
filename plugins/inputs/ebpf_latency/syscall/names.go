package syscall

import (
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
)

// Measurement is the syscall probe's metric name.
const Measurement = "ebpf_syscall_latency"

// Tag names and the comm value of folded samples (no escaped comm equals it).
const (
	TagSyscall = "syscall"
	TagComm    = "comm"
	TagCgroup  = cgroup.TagName // with by_cgroup
	CommOther  = tagvalue.Folded
)

// counterNames mirror enum syscall_counter in bpf/syscall/syscall.h.
var counterNames = []string{"comm_folded", "hist_full", "compat_skipped"}

// commLen is the kernel's TASK_COMM_LEN: 15 characters and a NUL.
const commLen = 16

// commString reads a NUL-padded kernel comm.
func commString(comm [commLen]int8) string {
	b := make([]byte, 0, commLen)
	for _, c := range comm {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
