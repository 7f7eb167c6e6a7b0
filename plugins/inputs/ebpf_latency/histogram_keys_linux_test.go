package ebpf_latency_test

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	ebpflatency "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// The plugin-wide bucket_counts reaches the running probes: with
// "interval", run-queue latency (context switches never stop) is written
// as interval buckets with both bounds, and never as seconds_bucket.
func TestBucketCountsReachesProbes(t *testing.T) {
	testenv.RequirePrivileged(t)
	plugin, err := ebpflatency.Parse([]byte(`
[[inputs.ebpf_latency]]
  probes = ["runq"]
  bucket_counts = "interval"
`))
	require.NoError(t, err)
	plugin.Log = testutil.Logger{}
	var acc testutil.Accumulator
	require.NoError(t, plugin.Start(&acc))
	defer plugin.Stop()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, plugin.Gather(&acc))

	var buckets, summaries int
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != "ebpf_runq_latency" {
			continue
		}
		_, cumulative := m.GetField(histogram.FieldBucket)
		require.False(t, cumulative, "no seconds_bucket in interval mode")
		if _, ok := m.GetTag(histogram.TagBound); ok {
			_, hasGT := m.GetTag(histogram.TagLowerBound)
			require.True(t, hasGT)
			buckets++
			continue
		}
		_, ok := m.GetField(histogram.FieldIntervalCount)
		require.True(t, ok, "summary carries interval_count")
		summaries++
	}
	require.Equal(t, 1, summaries)
	require.Positive(t, buckets)
}
