package tcp

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// Through a line holding every packet 10 ms each way, the interval's
// smallest RTT sample is never below the path's 20 ms, and a quiet
// interval carries no seconds_min at all.
func TestRTTMinIsThePath(t *testing.T) {
	testenv.RequirePrivileged(t)
	line := testenv.NewDelayLine(t, 10*time.Millisecond)
	port := serve(t, line.B)
	cfg := DefaultConfig()
	cfg.Hook, cfg.Ports = "sock_ops", []int{port}
	p := startProbe(t, NameRTT, cfg)
	client := map[string]string{"peer": line.B4.String()}

	roundTrips(t, dial(t, line.A, line.B4, port), 10)
	summary := summaryOf(t, gather(t, p), client)
	min, max := summary[histogram.FieldMin].(float64), summary[histogram.FieldMax].(float64)
	require.GreaterOrEqual(t, min, 0.020, "below the injected round trip")
	require.LessOrEqual(t, min, max)
	mean := summary[histogram.FieldSum].(float64) / float64(summary[histogram.FieldCount].(uint64))
	require.LessOrEqual(t, min, mean)

	summary = summaryOf(t, gather(t, p), client)
	require.NotContains(t, summary, histogram.FieldMin, "no sample this interval")
}

// summaryOf is the fields of the tcp_rtt line without le whose tags are tags.
func summaryOf(t *testing.T, acc *testutil.Accumulator, tags map[string]string) map[string]any {
	t.Helper()
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() == MeasurementRTT && tagString(m.Tags()) == tagString(tags) {
			return m.Fields()
		}
	}
	t.Fatalf("no %s summary line with tags %v", MeasurementRTT, tags)
	return nil
}
