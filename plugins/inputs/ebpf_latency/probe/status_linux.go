package probe

import (
	"github.com/cilium/ebpf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
)

// StatusOf is the Status of an attached probe object: the hook that won, and
// its per-CPU array of counters summed across CPUs, one __u64 per name in
// order. A nil att (not started, or stopped) reports nothing.
func StatusOf(att *hooks.Attached, counterMap string, names []string) Status {
	st := Status{Counters: map[string]uint64{}}
	if att == nil {
		return st
	}
	st.Hook = att.Kind.String()
	if counters := att.Collection.Maps[counterMap]; counters != nil {
		st.Counters = SumCounters(counters, names)
	}
	return st
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
