package testenv

import (
	"testing"

	"github.com/influxdata/telegraf/plugins/parsers/influx"
	influxserializer "github.com/influxdata/telegraf/plugins/serializers/influx"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// ThroughLineProtocol writes every metric of acc as the execd shim does
// (telegraf's influx serializer) and reads the lines back as inputs.execd
// does (telegraf's influx parser): what telegraf really receives.
func ThroughLineProtocol(t testing.TB, acc *testutil.Accumulator) *testutil.Accumulator {
	t.Helper()
	var ser influxserializer.Serializer
	require.NoError(t, ser.Init())
	parser := &influx.Parser{}
	require.NoError(t, parser.Init())
	var back testutil.Accumulator
	for _, m := range acc.GetTelegrafMetrics() {
		line, err := ser.Serialize(m)
		require.NoError(t, err)
		ms, err := parser.Parse(line)
		require.NoError(t, err, "parsing %q", line)
		require.Len(t, ms, 1, "one metric in %q", line)
		back.AddMetric(ms[0])
	}
	return &back
}

// RequireDistinctSeries fails when two summary lines (no le tag) of
// measurement in one gather carry the same tags: two sources merged.
func RequireDistinctSeries(t testing.TB, acc *testutil.Accumulator, measurement string) {
	t.Helper()
	seen := map[uint64]bool{}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != measurement {
			continue
		}
		if _, bucket := m.GetTag(histogram.TagBound); bucket {
			continue
		}
		key := m.HashID()
		require.False(t, seen[key], "two series share the tags %v", m.Tags())
		seen[key] = true
	}
}
