package slowevent

import (
	"errors"
	"fmt"
	"math/bits"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
)

// Names in every object that includes slow_event.bpf.h.
const (
	mapEvents   = "slow_events"
	mapCounters = "slow_counters"
	varNs       = "slow_ns"
	varTokenNs  = "slow_token_ns"
	varBurstNs  = "slow_burst_ns"
)

// Prepare sets the object's slow-event knobs before load and sizes its ring
// buffer: a page when events are off (an array instead on kernels without
// ring buffers, where the programs that would use it are pruned), two
// seconds of events at the full rate when on.
func (c *Config) Prepare(spec *ebpf.CollectionSpec) error {
	ring := spec.Maps[mapEvents]
	if ring == nil {
		return fmt.Errorf("object lacks map %s", mapEvents)
	}
	knobs := map[string]any{varNs: uint64(0), varTokenNs: uint64(0), varBurstNs: uint64(0)}
	if !c.On() {
		if features.HaveMapType(ebpf.RingBuf) != nil {
			ring.Type, ring.KeySize, ring.ValueSize, ring.MaxEntries = ebpf.Array, 4, 4, 1
		} else {
			ring.MaxEntries = uint32(os.Getpagesize())
		}
	} else {
		if err := Available(); err != nil {
			return fmt.Errorf("slow_threshold: %w", err)
		}
		token := uint64(1e9) / uint64(c.PerSecond)
		knobs[varNs] = uint64(c.threshold().Nanoseconds())
		knobs[varTokenNs] = token
		knobs[varBurstNs] = uint64(c.PerSecond-1) * token
		ring.MaxEntries = ringSize(c.PerSecond)
	}
	return hooks.SetKnobs(spec, knobs)
}

// ringSize holds two seconds of events at perSecond (records carry an
// 8-byte header), a power of two of at least a page.
func ringSize(perSecond int) uint32 {
	want := uint64(2*perSecond) * uint64(eventSize+8)
	size := uint64(1) << bits.Len64(want-1)
	return uint32(max(size, uint64(os.Getpagesize())))
}

// Available says why this kernel cannot send slow events, or nil: they need
// BPF ring buffers (Linux 5.8) and atomic compare-and-swap (5.12).
func Available() error {
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		return fmt.Errorf("slow events are unavailable on this kernel: they need BPF ring buffers (Linux 5.8+): %w", err)
	}
	if !HaveCmpxchg() {
		return errors.New("slow events are unavailable on this kernel: their rate limit needs BPF atomic compare-and-swap (Linux 5.12+)")
	}
	return nil
}

// HaveCmpxchg says whether BPF programs may use atomic compare-and-swap
// (BPF_CMPXCHG, Linux 5.12+).
func HaveCmpxchg() bool { return kernelAtLeast(5, 12) }

func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
