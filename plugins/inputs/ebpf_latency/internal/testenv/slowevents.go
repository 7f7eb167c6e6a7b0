package testenv

import (
	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"

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
