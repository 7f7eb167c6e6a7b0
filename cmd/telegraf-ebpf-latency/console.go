package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
	"github.com/influxdata/telegraf/models"
	"github.com/influxdata/telegraf/plugins/common/shim"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/console"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// heatmapWidth is how many intervals the console's heatmaps keep.
const heatmapWidth = 60

// runConsole is -console: instead of line protocol for telegraf, every
// interval it prints each series' histogram of that interval, BCC style,
// and a heatmap of the last intervals, until SIGINT or SIGTERM.
func runConsole(configFile string, interval time.Duration, out io.Writer) error {
	plugin, err := loadPlugin(configFile)
	if err != nil {
		return err
	}
	// The view needs every bound of every series: cumulative buckets.
	plugin.BucketCounts = histogram.LayoutCumulative
	models.SetLoggerOnPlugin(plugin, shim.New().Log())
	if err := plugin.Init(); err != nil {
		return err
	}
	buf := &metricsBuffer{Accumulator: consoleErrors{}}
	if err := plugin.Start(buf); err != nil {
		return err
	}
	defer plugin.Stop()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	v := newView()
	for {
		select {
		case <-stop:
			return nil
		case now := <-ticker.C:
			buf.metrics = buf.metrics[:0]
			if err := plugin.Gather(buf); err != nil {
				return err
			}
			if err := v.render(out, buf.metrics, now); err != nil {
				return err
			}
		}
	}
}

// metricsBuffer keeps one gather's metrics for the view; errors go to the
// accumulator it wraps.
type metricsBuffer struct {
	telegraf.Accumulator
	metrics []telegraf.Metric
}

func (b *metricsBuffer) add(name string, fields map[string]any, tags map[string]string, vt telegraf.ValueType, t []time.Time) {
	ts := time.Now()
	if len(t) > 0 {
		ts = t[0]
	}
	b.metrics = append(b.metrics, metric.New(name, tags, fields, ts, vt))
}

func (b *metricsBuffer) AddFields(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Untyped, t)
}

func (b *metricsBuffer) AddGauge(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Gauge, t)
}

func (b *metricsBuffer) AddCounter(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Counter, t)
}

func (b *metricsBuffer) AddSummary(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Summary, t)
}

func (b *metricsBuffer) AddHistogram(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Histogram, t)
}

func (b *metricsBuffer) AddMetric(m telegraf.Metric) { b.metrics = append(b.metrics, m) }

// consoleErrors prints gather errors on stderr; everything else a probe
// adds goes to the gatherBuffer wrapping it.
type consoleErrors struct{ telegraf.Accumulator }

func (consoleErrors) AddError(err error) {
	fmt.Fprintf(os.Stderr, "telegraf-ebpf-latency: %v\n", err)
}

// view turns each gather's cumulative buckets into the interval's
// histogram per series and keeps each series' heatmap.
type view struct {
	previous map[string][]uint64 // series -> cumulative counts of the last gather
	heatmaps map[string]*console.Heatmap
}

func newView() *view {
	return &view{previous: map[string][]uint64{}, heatmaps: map[string]*console.Heatmap{}}
}

// series is one histogram series of one gather.
type series struct {
	upper      []float64
	cumulative []uint64
}

// render prints one interval: a header with the time, then per series (by
// name and tags, sorted) whose heatmap window has samples, its title, the
// interval's histogram and the heatmap.
func (v *view) render(w io.Writer, metrics []telegraf.Metric, now time.Time) error {
	all := collect(metrics)
	summaries := summaryFields(metrics)
	keys := make([]string, 0, len(all))
	for key := range all {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "=== %s\n", now.Format(time.TimeOnly))
	for _, key := range keys {
		s := all[key]
		h := console.Histogram{Upper: s.upper, Counts: v.interval(key, s.cumulative)}
		m := v.heatmaps[key]
		if m == nil {
			m = &console.Heatmap{Width: heatmapWidth}
			v.heatmaps[key] = m
		}
		m.Add(h)
		var chart strings.Builder
		if err := m.Write(&chart); err != nil {
			return err
		}
		if chart.Len() == 0 {
			continue // nothing in the window: a quiet series takes no room
		}
		var n uint64
		for _, c := range h.Counts {
			n += c
		}
		fmt.Fprintf(&b, "\n%s: %d samples%s\n", key, n, extremes(summaries[key]))
		if err := console.WriteHistogram(&b, h); err != nil {
			return err
		}
		b.WriteString("\n" + chart.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// interval is what the series gained since the last gather, per bucket;
// all of its counts when the series is new or its counts went down (its
// kernel entry was recreated).
func (v *view) interval(key string, cumulative []uint64) []uint64 {
	prev := v.previous[key]
	v.previous[key] = cumulative
	if len(prev) != len(cumulative) {
		prev = make([]uint64, len(cumulative))
	}
	for i, p := range prev {
		if cumulative[i] < p {
			prev = make([]uint64, len(cumulative))
			break
		}
	}
	gained := make([]uint64, len(cumulative))
	for i := range cumulative {
		gained[i] = cumulative[i] - prev[i]
		if i > 0 {
			gained[i] -= cumulative[i-1] - prev[i-1]
		}
	}
	return gained
}

// summaryFields are the fields of each series' line without le.
func summaryFields(metrics []telegraf.Metric) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range metrics {
		if _, ok := m.GetTag(histogram.TagBound); ok {
			continue
		}
		if _, ok := m.GetField(histogram.FieldCount); ok {
			out[seriesName(m)] = m.Fields()
		}
	}
	return out
}

// extremes is the interval's min, quantiles and max from a summary line, in
// microseconds: ", min 28.2, p50 48.9, p99 991.8, max 7712.2 usecs"; empty
// when the line has none of them (an interval without samples).
func extremes(fields map[string]any) string {
	var parts []string
	add := func(label, field string) {
		if v, ok := fields[field].(float64); ok {
			parts = append(parts, label+" "+strconv.FormatFloat(v*1e6, 'f', 1, 64))
		}
	}
	add("min", histogram.FieldMin)
	var quantiles []string // p50_seconds ..., in quantile order
	for field := range fields {
		if strings.HasPrefix(field, "p") && strings.HasSuffix(field, "_seconds") {
			quantiles = append(quantiles, field)
		}
	}
	slices.SortFunc(quantiles, func(a, b string) int { return compareFloat(quantileOf(a), quantileOf(b)) })
	for _, field := range quantiles {
		add(strings.TrimSuffix(field, "_seconds"), field)
	}
	add("max", histogram.FieldMax)
	if len(parts) == 0 || fields[histogram.FieldMin] == nil {
		return ""
	}
	return ", " + strings.Join(parts, ", ") + " usecs"
}

// quantileOf reads a quantile field's name back: p999_seconds is 0.999.
func quantileOf(field string) float64 {
	q, _ := strconv.ParseFloat("0."+strings.TrimSuffix(field[1:], "_seconds"), 64)
	return q
}

// collect gathers the cumulative bucket lines by series: measurement and
// tags (le aside), in bound order.
func collect(metrics []telegraf.Metric) map[string]*series {
	all := map[string]*series{}
	type bucket struct {
		upper float64
		count uint64
	}
	buckets := map[string][]bucket{}
	for _, m := range metrics {
		le, ok := m.GetTag(histogram.TagBound)
		c, isBucket := m.GetField(histogram.FieldBucket)
		if !ok || !isBucket {
			continue
		}
		upper, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		key := seriesName(m)
		buckets[key] = append(buckets[key], bucket{upper, c.(uint64)})
	}
	for key, bs := range buckets {
		slices.SortFunc(bs, func(a, b bucket) int { return compareFloat(a.upper, b.upper) })
		s := &series{}
		for _, b := range bs {
			s.upper = append(s.upper, b.upper)
			s.cumulative = append(s.cumulative, b.count)
		}
		all[key] = s
	}
	return all
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// seriesName is "measurement k=v k=v" with the tags sorted, le left out.
func seriesName(m telegraf.Metric) string {
	parts := []string{m.Name()}
	for _, tag := range m.TagList() { // sorted by key
		if tag.Key != histogram.TagBound {
			parts = append(parts, tag.Key+"="+tag.Value)
		}
	}
	return strings.Join(parts, " ")
}
