// Package tcp holds the network probes tcp_rtt, tcp_connect and
// tcp_retransmits: per-peer TCP round-trip time, handshake latency, failed
// connects and retransmitted segments, from the eBPF programs in bpf/tcp.
// The three share one config table, [inputs.ebpf_latency.tcp].
package tcp

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Probe names, as listed in `probes`, and their shared table.
const (
	NameRTT         = "tcp_rtt"
	NameConnect     = "tcp_connect"
	NameRetransmits = "tcp_retransmits"
	Table           = "tcp"
)

func init() {
	for name, build := range map[string]func(*Config, telegraf.Logger) probe.Probe{
		NameRTT:         newRTTProbe,
		NameConnect:     newConnectProbe,
		NameRetransmits: newRetransmitsProbe,
	} {
		probe.Register(probe.Definition{
			Name:      name,
			Table:     Table,
			NewConfig: func() probe.Config { return DefaultConfig() },
			New: func(cfg probe.Config, log telegraf.Logger) probe.Probe {
				return build(cfg.(*Config), log)
			},
		})
	}
}
