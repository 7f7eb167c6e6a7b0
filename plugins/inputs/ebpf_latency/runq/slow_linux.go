package runq

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// emitSlowEvents writes the slow waits since the last gather: fields the
// task that waited (pid, tid, comm: a field here, as for every probe).
func (p *runqProbe) emitSlowEvents(acc telegraf.Accumulator) {
	for _, e := range p.events.Take() {
		slowevent.Emit(acc, Name, &e, nil, nil)
	}
}
