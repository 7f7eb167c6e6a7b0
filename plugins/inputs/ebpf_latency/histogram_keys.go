package ebpf_latency

import (
	"fmt"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// parseHistogramKeys checks the plugin-wide histogram keys into e.hist.
func (e *EbpfLatency) parseHistogramKeys() error {
	layout, err := histogram.ParseLayout(e.BucketCounts)
	if err != nil {
		return fmt.Errorf("%s.bucket_counts: %v", tablePrefix, err)
	}
	e.hist = histogram.Options{Layout: layout}
	return nil
}
