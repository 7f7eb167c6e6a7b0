package tcp

import (
	"net/netip"

	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// emitPeerEvents writes the slow events events holds (nil: off) with tags:
// fields who (pid, comm; 0 and "" where the kernel could not tell), the
// peer's address and port, and the local port.
func emitPeerEvents(acc telegraf.Accumulator, probe string, events *slowevent.Reader, tags map[string]string) {
	for _, e := range events.Take() {
		fields := map[string]any{
			"peer":       netip.AddrFrom16(e.Addr).Unmap().String(),
			"peer_port":  uint64(e.Size),
			"local_port": e.Detail,
		}
		slowevent.Emit(acc, probe, &e, tags, fields)
	}
}
