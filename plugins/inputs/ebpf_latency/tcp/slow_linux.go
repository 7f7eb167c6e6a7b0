package tcp

import (
	"maps"
	"net/netip"

	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// emitPeerEvents writes the slow events events holds (nil: off) with tags common
// (and cgroup, as their series, with by_cgroup):
// fields who (pid, comm; 0 and "" where the kernel could not tell), the
// peer's address and port, and the local port.
func emitPeerEvents(acc telegraf.Accumulator, probe string, events *slowevent.Reader, cgroups *cgroup.Tagger,
	common map[string]string) {
	for _, e := range events.Take() {
		tags := maps.Clone(common)
		if tags == nil {
			tags = map[string]string{}
		}
		if !cgroups.TagEvent(tags, e.Cgroup) {
			continue
		}
		fields := map[string]any{
			"peer":       netip.AddrFrom16(e.Addr).Unmap().String(),
			"peer_port":  uint64(e.Size),
			"local_port": e.Detail,
		}
		slowevent.Emit(acc, probe, &e, tags, fields)
	}
}
