package runq

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// emitSlowEvents writes the slow waits since the last gather (tag cgroup
// as their series with by_cgroup): fields the
// task that waited (pid, tid, comm: a field here, as for every probe).
func (p *runqProbe) emitSlowEvents(acc telegraf.Accumulator) {
	for _, e := range p.events.Take() {
		tags := map[string]string{}
		if !p.cgroups.TagEvent(tags, e.Cgroup) {
			continue
		}
		slowevent.Emit(acc, Name, &e, tags, nil)
	}
}
