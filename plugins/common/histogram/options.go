package histogram

import "fmt"

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

// Options is how a probe's histograms are written; the zero value is the
// historical output (cumulative buckets).
type Options struct {
	Layout Layout
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
