package slowevent

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// CounterDropped is the self-metric field counting slow operations that
// did not become an event line: over the rate, ring buffer full, or
// user-space queue full.
const CounterDropped = "slow_events_dropped"

// Reader drains one object's ring buffer in the background, so the kernel
// side never waits for a gather, and holds the events until the next one.
type Reader struct {
	ring     *ringbuf.Reader
	counters *ebpf.Map
	done     chan struct{}
	flushed  chan struct{} // the reader met the end of a Flush

	mu       sync.Mutex
	pending  []Event
	capacity int
	overflow uint64 // events dropped because pending was full
	errors   uint64
}

// NewReader starts draining coll's ring buffer; nil (and no error) when
// slow events are off.
func (c *Config) NewReader(coll *ebpf.Collection) (*Reader, error) {
	if !c.On() {
		return nil, nil
	}
	ring, err := ringbuf.NewReader(coll.Maps[mapEvents])
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", mapEvents, err)
	}
	r := &Reader{
		ring:     ring,
		counters: coll.Maps[mapCounters],
		done:     make(chan struct{}),
		flushed:  make(chan struct{}, 1),
		// A minute of events at the full rate waits for a gather.
		capacity: 60 * c.PerSecond,
	}
	go r.run()
	return r, nil
}

func (r *Reader) run() {
	defer close(r.done)
	var rec ringbuf.Record
	for {
		if err := r.ring.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if errors.Is(err, ringbuf.ErrFlushed) {
				select {
				case r.flushed <- struct{}{}:
				default:
				}
				continue
			}
			r.mu.Lock()
			r.errors++
			r.mu.Unlock()
			continue
		}
		e, err := decode(rec.RawSample)
		r.mu.Lock()
		switch {
		case err != nil:
			r.errors++
		case len(r.pending) >= r.capacity:
			r.overflow++
		default:
			r.pending = append(r.pending, e)
		}
		r.mu.Unlock()
	}
}

// Take returns the events that arrived since the last Take, oldest first.
// It first collects what the kernel has already committed, so an event of
// an operation that ended before the call is among them.
func (r *Reader) Take() []Event {
	if r == nil {
		return nil
	}
	r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.pending
	r.pending = nil
	return got
}

// flush waits until the background reader has queued everything the ring
// holds now (bounded: it gives up after a second).
func (r *Reader) flush() {
	select {
	case <-r.flushed: // left over from a flush that timed out
	default:
	}
	if r.ring.Flush() != nil {
		return
	}
	select {
	case <-r.flushed:
	case <-time.After(time.Second):
	}
}

// Counters adds the slow-event self-metrics to st.
func (r *Reader) Counters(st probe.Status) probe.Status {
	if r == nil {
		return st
	}
	if st.Counters == nil {
		st.Counters = map[string]uint64{}
	}
	kernel := probe.SumCounters(r.counters, []string{"rate_limited", "ring_full"})
	r.mu.Lock()
	st.Counters[CounterDropped] = kernel["rate_limited"] + kernel["ring_full"] + r.overflow
	st.Counters["slow_events_unreadable"] = r.errors
	r.mu.Unlock()
	return st
}

// Close stops the background reader.
func (r *Reader) Close() error {
	if r == nil {
		return nil
	}
	err := r.ring.Close()
	<-r.done
	return err
}

func init() {
	wallClock = func(monoNs uint64) time.Time {
		var ts unix.Timespec
		now := time.Now()
		if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
			return now
		}
		return now.Add(-time.Duration(uint64(ts.Nano()) - monoNs))
	}
}
