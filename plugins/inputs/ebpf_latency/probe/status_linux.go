package probe

import "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"

// StatusOf is the Status of an attached probe object: the hook that won, and
// its per-CPU array of counters summed across CPUs, one __u64 per name in
// order. A nil att (not started, or stopped) reports nothing.
func StatusOf(att *hooks.Attached, counterMap string, names []string) Status {
	st := Status{Counters: map[string]uint64{}}
	if att == nil {
		return st
	}
	st.Hook = att.Kind.String()
	counters := att.Collection.Maps[counterMap]
	if counters == nil {
		return st
	}
	for i, name := range names {
		var perCPU []uint64
		if err := counters.Lookup(uint32(i), &perCPU); err != nil {
			continue
		}
		var sum uint64
		for _, v := range perCPU {
			sum += v
		}
		st.Counters[name] += sum
	}
	return st
}
