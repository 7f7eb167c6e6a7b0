package testenv

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// SlowEvents are the ebpf_latency_slow_event lines acc holds, in order.
func SlowEvents(acc *testutil.Accumulator) []telegraf.Metric {
	var events []telegraf.Metric
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() == slowevent.Measurement {
			events = append(events, m)
		}
	}
	return events
}

// RequireRateLimited checks a rate-limited run of slow operations: every
// one of them was sent as an event or counted as dropped, the burst of
// perSecond was sent, and no more than burst + rate x elapsed.
func RequireRateLimited(t testing.TB, acc *testutil.Accumulator, slow, dropped uint64, perSecond int, elapsed time.Duration) {
	t.Helper()
	sent := len(SlowEvents(acc))
	require.Equal(t, slow-uint64(sent), dropped, "every slow operation not sent is counted")
	require.GreaterOrEqual(t, sent, perSecond, "the burst is sent")
	require.LessOrEqual(t, sent, perSecond+int(elapsed.Seconds()*float64(perSecond))+1, "no more than burst + rate x time")
}
