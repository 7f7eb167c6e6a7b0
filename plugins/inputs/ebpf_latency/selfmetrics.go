package ebpf_latency

import (
	"strings"

	"github.com/influxdata/telegraf"
)

// SelfMeasurement carries one line per configured probe: whether it runs,
// through which hook, its health counters, and why it is down (error).
const SelfMeasurement = "ebpf_latency_probe"

func (e *EbpfLatency) gatherSelf(acc telegraf.Accumulator) {
	for _, name := range e.Probes {
		tags := map[string]string{"probe": name, "hook": "none"}
		fields := map[string]any{"up": 0}
		if err, ok := e.failed[name]; ok {
			fields["error"] = err.Error()
		}
		if p, ok := e.running[name]; ok {
			st := p.Status()
			tags["hook"] = st.Hook
			if st.StartTimes != "" {
				tags["start_times"] = st.StartTimes
			}
			fields["up"] = 1
			for k, v := range st.Counters {
				fields[k] = v
				e.warnFull(name, k, v)
			}
		}
		acc.AddFields(SelfMeasurement, fields, tags)
	}
}

// warnFull says once per probe and counter when a bounded map overflowed
// (hist_full, series_full, inflight_full, ...): data is being lost, and the
// self-metric alone is easy to miss.
func (e *EbpfLatency) warnFull(probe, counter string, n uint64) {
	if n == 0 || !strings.HasSuffix(counter, "_full") {
		return
	}
	key := probe + "/" + counter
	if e.warned[key] {
		return
	}
	if e.warned == nil {
		e.warned = map[string]bool{}
	}
	e.warned[key] = true
	e.Log.Warnf("probe %s: %s = %d: a bounded kernel map is full and samples are being lost (see %s in the plugin README)", probe, counter, n, counter)
}
