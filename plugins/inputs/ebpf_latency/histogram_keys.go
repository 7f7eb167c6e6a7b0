package ebpf_latency

import (
	"fmt"
	"time"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// parseHistogramKeys checks the plugin-wide histogram keys into e.hist.
func (e *EbpfLatency) parseHistogramKeys() error {
	scheme, err := histogram.ParseScheme(e.Buckets)
	if err != nil {
		return fmt.Errorf("%s.buckets: %v", tablePrefix, err)
	}
	quantiles := e.Quantiles
	if quantiles == nil {
		quantiles = histogram.DefaultQuantiles
	}
	if err := histogram.CheckQuantiles(quantiles); err != nil {
		return fmt.Errorf("%s.quantiles: %v", tablePrefix, err)
	}
	layout, err := histogram.ParseLayout(e.BucketCounts)
	if err != nil {
		return fmt.Errorf("%s.bucket_counts: %v", tablePrefix, err)
	}
	every := time.Duration(0)
	if e.UnchangedSeriesEvery != "" {
		if every, err = time.ParseDuration(e.UnchangedSeriesEvery); err != nil || every < 0 {
			return fmt.Errorf("%s.unchanged_series_every: bad duration %q (want e.g. \"45s\", or \"0s\" for every gather)", tablePrefix, e.UnchangedSeriesEvery)
		}
	}
	e.hist = histogram.Options{Scheme: scheme, Layout: layout, Quantiles: quantiles, UnchangedEvery: every}
	return nil
}

// checkTableBuckets checks a probe table's own buckets key.
func checkTableBuckets(key string, cfg probe.Config) error {
	k, ok := cfg.(histogram.BucketsKeyer)
	if !ok {
		return nil
	}
	if _, err := histogram.ParseScheme(k.BucketsKey()); err != nil {
		return fmt.Errorf("%s.%s.buckets: %v", tablePrefix, key, err)
	}
	return nil
}

// histogramsOf is the plugin-wide options with the table's scheme, if set
// (checked by Init).
func (e *EbpfLatency) histogramsOf(cfg probe.Config) histogram.Options {
	return e.hist.WithTable(cfg)
}
