package histogram

import (
	"time"

	"github.com/influxdata/telegraf"
)

// Field names: through telegraf's prometheus_client output a measurement m
// becomes m_seconds_bucket{le=...}, m_seconds_sum, m_seconds_count, m_seconds_max.
const (
	FieldBucket = "seconds_bucket"
	FieldSum    = "seconds_sum"
	FieldCount  = "seconds_count"
	FieldMax    = "seconds_max"
	TagBound    = "le"
)

// Emitter remembers, per series, which buckets it has emitted, so a bound
// once shown is shown at every later gather: rate() and heatmaps misread
// buckets that come and go.
type Emitter struct {
	shown map[string]*bucketRange
}

// bucketRange is the finite slots [lo, hi] a series has emitted so far.
type bucketRange struct{ lo, hi int }

// NewEmitter returns an Emitter with no series yet.
func NewEmitter() *Emitter {
	return &Emitter{shown: make(map[string]*bucketRange)}
}

// Series is the number of series the Emitter has seen.
func (e *Emitter) Series() int { return len(e.shown) }

// Emit writes one series: a line per bucket (tag le, cumulative count) from
// the lowest to the highest finite slot ever populated, the +Inf line, then a
// line without le carrying sum, count and the interval's max.
func (e *Emitter) Emit(acc telegraf.Accumulator, measurement, id string, tags map[string]string, iv *Interval, now time.Time) {
	r := e.extend(id, iv)
	var cumulative uint64
	for s := 0; s < Slots-1; s++ {
		cumulative += iv.Slots[s]
		if r == nil || s < r.lo || s > r.hi {
			continue
		}
		acc.AddFields(measurement, map[string]any{FieldBucket: cumulative}, withBound(tags, BoundLabel(s)), now)
	}
	cumulative += iv.Slots[Slots-1]
	acc.AddFields(measurement, map[string]any{FieldBucket: cumulative}, withBound(tags, "+Inf"), now)
	acc.AddFields(measurement, map[string]any{
		FieldSum:   float64(iv.SumNs) / 1e9,
		FieldCount: cumulative,
		FieldMax:   float64(iv.MaxNs) / 1e9,
	}, tags, now)
}

// extend widens the series' range to cover every populated finite slot.
func (e *Emitter) extend(id string, iv *Interval) *bucketRange {
	r := e.shown[id]
	for s := 0; s < Slots-1; s++ {
		if iv.Slots[s] == 0 {
			continue
		}
		if r == nil {
			r = &bucketRange{lo: s, hi: s}
			e.shown[id] = r
		}
		r.lo = min(r.lo, s)
		r.hi = max(r.hi, s)
	}
	if r == nil {
		e.shown[id] = nil
	}
	return r
}

func withBound(tags map[string]string, le string) map[string]string {
	t := make(map[string]string, len(tags)+1)
	for k, v := range tags {
		t[k] = v
	}
	t[TagBound] = le
	return t
}
