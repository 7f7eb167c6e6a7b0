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

// Emitter writes series in the one bucket layout every series of every
// host shares: all finite bounds and +Inf, always. Prometheus aggregates
// histograms with sum by (le); a bound missing from one series (or one host)
// would silently drop its samples from that bucket, and buckets that come
// and go confuse rate() and heatmaps.
type Emitter struct {
	bucket, summary map[string]any // reused: accumulators copy fields
}

// NewEmitter returns an Emitter.
func NewEmitter() *Emitter {
	return &Emitter{bucket: make(map[string]any, 1), summary: make(map[string]any, 3)}
}

// boundLabels are the le values, formatted once.
var boundLabels = func() (labels [Slots]string) {
	for s := range labels {
		labels[s] = BoundLabel(s)
	}
	return labels
}()

// Emit writes one series: a line per bound (tag le, cumulative count), then
// a line without le carrying sum, count and the interval's max. It borrows
// tags, adding le while it writes and removing it before it returns; the
// accumulators (telegraf's and testutil's) copy tags and fields per line.
func (e *Emitter) Emit(acc telegraf.Accumulator, measurement string, tags map[string]string, iv *Interval, now time.Time) {
	var cumulative uint64
	for s := 0; s < Slots; s++ {
		cumulative += iv.Slots[s]
		tags[TagBound] = boundLabels[s]
		e.bucket[FieldBucket] = cumulative
		acc.AddFields(measurement, e.bucket, tags, now)
	}
	delete(tags, TagBound)
	e.summary[FieldSum] = float64(iv.SumNs) / 1e9
	e.summary[FieldCount] = cumulative
	e.summary[FieldMax] = float64(iv.MaxNs) / 1e9
	acc.AddFields(measurement, e.summary, tags, now)
}
