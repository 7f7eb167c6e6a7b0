package ebpf_latency

import "github.com/influxdata/telegraf"

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
			fields["up"] = 1
			for k, v := range st.Counters {
				fields[k] = v
			}
		}
		acc.AddFields(SelfMeasurement, fields, tags)
	}
}
