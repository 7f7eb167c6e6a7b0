package histogram

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Scheme names as written in the config (key buckets).
const (
	SchemeLog2   = "log2"
	SchemeLog2x4 = "log2x4"
)

// ParseScheme reads a buckets value; "" is the default, log2.
func ParseScheme(s string) (Scheme, error) {
	switch s {
	case "", SchemeLog2:
		return Log2, nil
	case SchemeLog2x4:
		return Log2x4, nil
	}
	return 0, fmt.Errorf("unknown scheme %q (want %q or %q)", s, SchemeLog2, SchemeLog2x4)
}

// String is the scheme's config name.
func (s Scheme) String() string {
	if s == Log2x4 {
		return SchemeLog2x4
	}
	return SchemeLog2
}

// DefaultQuantiles are written unless the config says otherwise.
var DefaultQuantiles = []float64{0.5, 0.9, 0.99, 0.999}

// CheckQuantiles refuses a quantile outside (0, 1) and duplicates.
func CheckQuantiles(qs []float64) error {
	for i, q := range qs {
		if !(q > 0 && q < 1) {
			return fmt.Errorf("%s is outside (0, 1)", strconv.FormatFloat(q, 'g', -1, 64))
		}
		if slices.Index(qs, q) != i {
			return fmt.Errorf("%s listed twice", strconv.FormatFloat(q, 'g', -1, 64))
		}
	}
	return nil
}

// QuantileField is the summary field of quantile q: "p" and the digits
// after "0.", at least two: 0.5 is p50_seconds, 0.999 p999_seconds.
func QuantileField(q float64) string {
	digits := strconv.FormatFloat(q, 'f', -1, 64)[2:]
	if len(digits) < 2 {
		digits += "0"
	}
	return "p" + digits + "_seconds"
}

// Layout is how bucket counts are written (config key bucket_counts).
type Layout int

const (
	// Cumulative writes every bound every gather, counts since load
	// (Prometheus' convention: never reset, rate() and histogram_quantile()
	// work on it).
	Cumulative Layout = iota
	// IntervalCounts writes only the buckets that gained samples during the
	// interval just ended, with their gain, tagged le and gt: InfluxQL can
	// sum() them into a heatmap without subtracting across tags.
	IntervalCounts
)

// Layout names as written in the config.
const (
	LayoutCumulative = "cumulative"
	LayoutInterval   = "interval"
)

// ParseLayout reads a bucket_counts value; "" is the default.
func ParseLayout(s string) (Layout, error) {
	switch s {
	case "", LayoutCumulative:
		return Cumulative, nil
	case LayoutInterval:
		return IntervalCounts, nil
	}
	return 0, fmt.Errorf("unknown value %q (want %q or %q)", s, LayoutCumulative, LayoutInterval)
}

// Options is how a probe's histograms are kept and written; the zero value
// is log2, cumulative, no quantiles.
type Options struct {
	Scheme    Scheme
	Layout    Layout
	Quantiles []float64 // checked by CheckQuantiles
	// UnchangedEvery (unchanged_series_every): a series without a new
	// sample since it was last written is written again only this long
	// after; 0 writes every series every gather.
	UnchangedEvery time.Duration
}

// User is a probe that writes histograms: the plugin hands it the options
// between construction and Start.
type User interface {
	UseHistograms(Options)
}

// Settings, embedded in a probe, makes it a User: it keeps the options the
// plugin hands over for Start to use.
type Settings struct{ opts Options }

// UseHistograms keeps opts.
func (s *Settings) UseHistograms(opts Options) { s.opts = opts }

// Histograms is what UseHistograms kept (the zero Options before).
func (s *Settings) Histograms() Options { return s.opts }

// TableBuckets, embedded in a probe's config table, is its `buckets` key:
// the probe's scheme when set, else the plugin-wide one.
type TableBuckets struct {
	Buckets string `toml:"buckets"`
}

// BucketsKey is the table's buckets value ("" when unset).
func (t TableBuckets) BucketsKey() string { return t.Buckets }

// BucketsKeyer is a probe config table with a buckets key.
type BucketsKeyer interface {
	BucketsKey() string
}

// WithTable is o with the scheme a probe's config table sets, if it sets
// one (cfg a BucketsKeyer with a valid, non-empty buckets key).
func (o Options) WithTable(cfg any) Options {
	if k, ok := cfg.(BucketsKeyer); ok && k.BucketsKey() != "" {
		if s, err := ParseScheme(k.BucketsKey()); err == nil {
			o.Scheme = s
		}
	}
	return o
}
