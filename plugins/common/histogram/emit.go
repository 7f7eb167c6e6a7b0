package histogram

import (
	"math"
	"time"

	"github.com/influxdata/telegraf"
)

// Field and tag names: through telegraf's prometheus_client output a
// measurement m becomes m_seconds_bucket{le=...}, m_seconds_sum,
// m_seconds_count, m_seconds_max, m_seconds_min.
const (
	FieldBucket = "seconds_bucket"
	FieldSum    = "seconds_sum"
	FieldCount  = "seconds_count"
	FieldMax    = "seconds_max"
	FieldMin    = "seconds_min"
	TagBound    = "le"

	// bucket_counts = "interval": per-bucket gains of the interval, tagged
	// with both bounds, and the interval's count and sum on the summary.
	FieldIntervalBucket = "interval_bucket"
	FieldIntervalCount  = "interval_count"
	FieldIntervalSum    = "interval_sum_seconds"
	TagLowerBound       = "gt"
)

// Emitter writes series in one bucket layout shared by every series of every
// host. Cumulative: all finite bounds and +Inf, always. Prometheus aggregates
// histograms with sum by (le); a bound missing from one series (or one host)
// would silently drop its samples from that bucket, and buckets that come
// and go confuse rate() and heatmaps. Interval: only the buckets that gained
// samples, each tagged with both its bounds, so a missing line means zero.
type Emitter struct {
	opts            Options
	slots           int      // the scheme's
	le, gt          []string // bound labels of each slot, formatted once
	quantileFields  []string
	bucket, summary map[string]any // reused: accumulators copy fields
	at              []time.Time    // reused variadic timestamp: a fresh one per line allocates
	cumulative      []uint64       // one series' bucket counts for a SeriesAdder
	deltas          deltas
}

// NewEmitter returns an Emitter writing in the scheme, layout and
// quantiles opts names.
func NewEmitter(opts Options) *Emitter {
	e := &Emitter{
		opts:    opts,
		slots:   opts.Scheme.Slots(),
		bucket:  make(map[string]any, 1),
		summary: make(map[string]any, 6+len(opts.Quantiles)),
		at:      make([]time.Time, 1),
	}
	e.cumulative = make([]uint64, e.slots)
	e.le, e.gt = make([]string, e.slots), make([]string, e.slots)
	for s := range e.le {
		e.le[s] = opts.Scheme.BoundLabel(s)
		e.gt[s] = "0"
		if s > 0 {
			e.gt[s] = e.le[s-1]
		}
	}
	for _, q := range opts.Quantiles {
		e.quantileFields = append(e.quantileFields, QuantileField(q))
	}
	return e
}

// Emit writes one series: its bucket lines, then a line without le carrying
// sum, count, the interval's max and min and its quantiles; with
// UnchangedEvery, nothing if the series gained no sample and was written
// less than that long ago. It borrows tags,
// adding le (and gt) while it writes and removing them before it returns;
// the accumulators (telegraf's and testutil's) copy tags and fields per line.
func (e *Emitter) Emit(acc telegraf.Accumulator, measurement string, tags map[string]string, iv *Interval, now time.Time) {
	clear(e.summary)
	e.at[0] = now
	added, state := e.deltas.since(measurement, tags, iv, e.slots, now)
	addedCount := slotSum(added.Slots[:e.slots])
	if e.opts.UnchangedEvery > 0 {
		if addedCount == 0 && added.SumNs == 0 && now.Sub(state.written) < e.opts.UnchangedEvery {
			return // nothing new, and written recently enough
		}
		state.written = now
	}
	if e.opts.Layout == IntervalCounts {
		e.emitIntervalBuckets(acc, measurement, tags, &added)
		e.summary[FieldIntervalCount] = addedCount
		e.summary[FieldIntervalSum] = float64(added.SumNs) / 1e9
	}
	if addedCount > 0 {
		for i, q := range e.opts.Quantiles {
			// Whole nanoseconds: finer is noise, and the field reads cleanly.
			e.summary[e.quantileFields[i]] = math.Round(quantileNs(e.opts.Scheme, &added, addedCount, q)) / 1e9
		}
	}
	e.summary[FieldSum] = sumSeconds(state.wraps, iv.SumNs)
	e.summary[FieldCount] = slotSum(iv.Slots[:e.slots])
	e.summary[FieldMax] = float64(iv.MaxNs) / 1e9
	if iv.Sampled {
		e.summary[FieldMin] = float64(iv.MinNs) / 1e9
	}
	if e.opts.Layout == IntervalCounts {
		acc.AddFields(measurement, e.summary, tags, e.at...)
		return
	}
	if w, ok := acc.(SeriesAdder); ok {
		var cumulative uint64
		for s, c := range iv.Slots[:e.slots] {
			cumulative += c
			e.cumulative[s] = cumulative
		}
		w.AddSeries(measurement, tags, TagBound, e.le, FieldBucket, e.cumulative, e.summary, now)
		return
	}
	e.emitCumulativeBuckets(acc, measurement, tags, iv)
	acc.AddFields(measurement, e.summary, tags, e.at...)
}

// slotSum is the number of samples in slots.
func slotSum(slots []uint64) uint64 {
	var n uint64
	for _, c := range slots {
		n += c
	}
	return n
}

// sumSeconds is wraps*2^64 + ns nanoseconds in seconds.
func sumSeconds(wraps, ns uint64) float64 {
	return float64(wraps)*(1<<64/1e9) + float64(ns)/1e9
}

// SeriesAdder is an accumulator that writes a cumulative series in one
// call: a line per label (tags plus boundTag=labels[i], the one field
// bucketField=counts[i]), then the summary line (tags, summary), all at t;
// what an AddFields per line would write. The plugin's own line-protocol
// writer (lineproto.Buffer) is one: it builds name and tags once per
// series, not once per line.
type SeriesAdder interface {
	AddSeries(name string, tags map[string]string, boundTag string, labels []string, bucketField string, counts []uint64, summary map[string]any, t time.Time)
}

// emitCumulativeBuckets writes every bound with the count at or below it.
func (e *Emitter) emitCumulativeBuckets(acc telegraf.Accumulator, measurement string, tags map[string]string, iv *Interval) {
	// Boxing a count into the fields map allocates; cumulative counts stay
	// put across empty slots, so box each distinct value once.
	var cumulative uint64
	e.bucket[FieldBucket] = cumulative
	for s := 0; s < e.slots; s++ {
		if c := iv.Slots[s]; c != 0 {
			cumulative += c
			e.bucket[FieldBucket] = cumulative
		}
		tags[TagBound] = e.le[s]
		acc.AddFields(measurement, e.bucket, tags, e.at...)
	}
	delete(tags, TagBound)
}

// emitIntervalBuckets writes the buckets that gained samples, with the gain.
func (e *Emitter) emitIntervalBuckets(acc telegraf.Accumulator, measurement string, tags map[string]string, added *Interval) {
	for s := 0; s < e.slots; s++ {
		if added.Slots[s] == 0 {
			continue
		}
		tags[TagBound], tags[TagLowerBound] = e.le[s], e.gt[s]
		e.bucket[FieldIntervalBucket] = added.Slots[s]
		acc.AddFields(measurement, e.bucket, tags, e.at...)
	}
	delete(tags, TagBound)
	delete(tags, TagLowerBound)
}
