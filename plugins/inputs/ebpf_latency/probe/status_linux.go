package probe

import (
	"github.com/cilium/ebpf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
)

// StatusOf is the Status of an attached probe object: the hook that won, its
// per-CPU array of counters summed across CPUs, one __u64 per name in order,
// and recursion_misses. A nil att (not started, or stopped) reports nothing.
func StatusOf(att *hooks.Attached, counterMap string, names []string) Status {
	st := Status{Counters: map[string]uint64{}}
	if att == nil {
		return st
	}
	st.Hook = att.Kind.String()
	if counters := att.Collection.Maps[counterMap]; counters != nil {
		st.Counters = SumCounters(counters, names)
	}
	st.Counters[RecursionMisses] = RecursionMissesOf(att.Collection.Programs)
	return st
}

// RecursionMisses is the self-metric field counting runs the kernel skipped.
const RecursionMisses = "recursion_misses"

// RecursionMissesOf sums the kernel's count of times it skipped one of progs
// because a BPF program was already running on that CPU (bpf_prog_info
// recursion_misses, Linux 5.12+): events the probe never saw. Kernels
// without the count report 0.
func RecursionMissesOf(progs map[string]*ebpf.Program) uint64 {
	var n uint64
	for _, prog := range progs {
		if st, err := prog.Stats(); err == nil {
			n += st.RecursionMisses
		}
	}
	return n
}

// SumCounters reads a per-CPU array of __u64 counters, one per name in
// order, summed across CPUs.
func SumCounters(counters *ebpf.Map, names []string) map[string]uint64 {
	sums := make(map[string]uint64, len(names))
	for i, name := range names {
		var perCPU []uint64
		if err := counters.Lookup(uint32(i), &perCPU); err != nil {
			continue
		}
		for _, v := range perCPU {
			sums[name] += v
		}
	}
	return sums
}
