package bench

// Role says what a variant stands for in the table.
type Role int

const (
	Baseline    Role = iota // no programs: wall-clock reference
	Floor                   // empty programs on the hooks a probe uses
	Probe                   // one of our probes in one configuration
	Alternative             // the tool a user would reach for instead
)

// Counts is BPF stats summed over a set of programs.
type Counts struct {
	RunTimeNs uint64
	RunCount  uint64
	// Misses are runs the kernel skipped because the program (or, for
	// classic tracepoints, any tracing program) was already running on
	// that CPU: an event that interrupts its own hook is not seen.
	Misses uint64
}

func (c Counts) sub(o Counts) Counts {
	return Counts{RunTimeNs: c.RunTimeNs - o.RunTimeNs, RunCount: c.RunCount - o.RunCount, Misses: c.Misses - o.Misses}
}

// Sample is one variant watching one workload run of a fixed size.
type Sample struct {
	Kernel Counts // every program of the variant, over the run
	// Events counts runs of the variant's per-event program (the completion
	// hook): the divisor, since other processes' events hit the hooks too.
	Events   uint64
	Work     Result
	Recorded uint64 // samples the probe's histogram gained (probes only)
	// Health is how much each of the probe's anomaly counters grew.
	Health map[string]uint64
	// PerOp divides by the workload's events (Path.PerWorkloadEvent).
	PerOp bool
}

// Result is what the workload reports about one run.
type Result struct {
	Ops    uint64  // events it caused, e.g. I/Os fio completed
	WallNs float64 // mean latency per event as the workload saw it
	// Counted is the events the kernel's own statistics saw (block layer
	// reads completed), a witness independent of BPF; 0 when none exists.
	Counted uint64
	// Due is how many samples a probe timing every workload event must
	// record, where the kernel's own accounting shows the workload caused
	// more such events than it asked for (a named thread that an
	// interloper preempts is switched in once more); 0 means Ops.
	Due uint64
}

// due is the samples a probe timing every event must record.
func (r Result) due() uint64 {
	if r.Due != 0 {
		return r.Due
	}
	return r.Ops
}

// KernelNsPerEvent is in-kernel program time per event; 0 with no programs.
func (s Sample) KernelNsPerEvent() float64 {
	if s.Events == 0 {
		return 0
	}
	d := s.Events
	if s.PerOp {
		d = s.Work.Ops
	}
	return float64(s.Kernel.RunTimeNs) / float64(d)
}
