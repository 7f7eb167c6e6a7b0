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
type Emitter struct{}

// NewEmitter returns an Emitter.
func NewEmitter() *Emitter { return &Emitter{} }

// Emit writes one series: a line per bound (tag le, cumulative count), then
// a line without le carrying sum, count and the interval's max. The id is
// reserved for per-series state; the layout needs none.
func (e *Emitter) Emit(acc telegraf.Accumulator, measurement, id string, tags map[string]string, iv *Interval, now time.Time) {
	var cumulative uint64
	for s := 0; s < Slots; s++ {
		cumulative += iv.Slots[s]
		acc.AddFields(measurement, map[string]any{FieldBucket: cumulative}, withBound(tags, BoundLabel(s)), now)
	}
	acc.AddFields(measurement, map[string]any{
		FieldSum:   float64(iv.SumNs) / 1e9,
		FieldCount: cumulative,
		FieldMax:   float64(iv.MaxNs) / 1e9,
	}, tags, now)
}

func withBound(tags map[string]string, le string) map[string]string {
	t := make(map[string]string, len(tags)+1)
	for k, v := range tags {
		t[k] = v
	}
	t[TagBound] = le
	return t
}
