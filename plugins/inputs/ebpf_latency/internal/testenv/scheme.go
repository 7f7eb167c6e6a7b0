package testenv

import (
	"fmt"
	"os"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// BucketsEnv names the bucket scheme probe tests run under (the config's
// buckets values; unset: log2), so each probe's exact-count and bucket
// tests run on either scheme: EBPF_LATENCY_TEST_BUCKETS=log2x4 go test ...
const BucketsEnv = "EBPF_LATENCY_TEST_BUCKETS"

// Scheme is the bucket scheme BucketsEnv asks for.
func Scheme() histogram.Scheme {
	s, err := histogram.ParseScheme(os.Getenv(BucketsEnv))
	if err != nil {
		panic(fmt.Sprintf("%s: %v", BucketsEnv, err))
	}
	return s
}

// UseScheme makes a probe keep its histograms under Scheme(); probe test
// helpers call it before Start.
func UseScheme(p any) {
	if h, ok := p.(interface{ UseHistograms(histogram.Options) }); ok {
		h.UseHistograms(histogram.Options{Scheme: Scheme()})
	}
}
