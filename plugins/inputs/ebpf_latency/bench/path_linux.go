package bench

import (
	"sync"
	"testing"

	"github.com/cilium/ebpf"
)

// Path is one probe's benchmark: a workload of countable events and the
// variants that watch it. Adding a probe's path means one Path value.
type Path struct {
	Name  string // "disk"
	Event string // what one workload event is, e.g. "4 KiB O_DIRECT read"
	// Scale multiplies the plan's event count: cheap events need more of
	// them to stand out of the program-stats noise.
	Scale int
	// Setup prepares the workload and its variants; cleanups go to t.
	Setup func(t testing.TB) (Workload, []Variant)
	// PerWorkloadEvent divides in-kernel time by the workload's events
	// instead of the per-event program's runs: for workloads where one
	// event runs the hook several times (a TCP round trip calls back on
	// both ends, a connection changes state about ten times).
	PerWorkloadEvent bool
	// Alternative names the variant of the tool users reach for instead;
	// empty when it never runs on this workload.
	Alternative string
	// Targets judges the measured rows against the published limits.
	Targets func(rows []*Row) []Target
}

// Paths are the benchmarked paths, in table order. A probe's path is one
// more entry here.
func Paths() []Path {
	return []Path{DiskPath, SyscallWatchedPath, SyscallUnwatchedPath,
		TCPRoundTripPath, TCPConnectPath, FuncPath, RunqPath}
}

// Workload causes a known number of events.
type Workload interface {
	// Run causes n events and reports what it saw.
	Run(t testing.TB, n int) Result
	// Warm causes a few events, so a variant can prove its programs run.
	Warm(t testing.TB)
}

// Variant is one way of watching the workload.
type Variant struct {
	Name string
	Role Role
	// Floor names the floor variant a probe's ratio is taken against.
	Floor string
	// Records is how many samples a probe must add per workload event: 1,
	// or 0 where the workload's events are ones it must not time.
	Records uint64
	Start   func(t testing.TB) (*Running, error)
}

// Running is a started variant.
type Running struct {
	Programs []*ebpf.Program // all of them: their run time is the cost
	Events   []*ebpf.Program // one run per event (the completion hook)
	// Ready must each have run once before measuring; tools that attach
	// after loading (bpftrace) set it. Defaults to Events.
	Ready []*ebpf.Program
	// Recorded is how many samples the probe holds for the workload's
	// events; nil for anything but our probes.
	Recorded func() (uint64, error)
	// Health is the probe's anomaly counters (probe.Status), nil otherwise.
	Health func() map[string]uint64

	stop     func() error
	stopOnce sync.Once
	stopErr  error
}

// newRunning registers stop with t too, so a failed measurement cleans up.
func newRunning(t testing.TB, stop func() error) *Running {
	r := &Running{stop: stop}
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

// Stop detaches the variant; safe to call twice.
func (r *Running) Stop() error {
	r.stopOnce.Do(func() {
		if r.stop != nil {
			r.stopErr = r.stop()
		}
	})
	return r.stopErr
}

func (r *Running) ready() []*ebpf.Program {
	if r.Ready != nil {
		return r.Ready
	}
	return r.Events
}
