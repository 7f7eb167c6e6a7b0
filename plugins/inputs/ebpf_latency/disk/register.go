// Package disk is the disk probe: queue and service latency of every block
// request, per device and op, from the eBPF program in bpf/disk.
package disk

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Name is the probe's name in `probes` and its config table.
const Name = "disk"

func init() {
	probe.Register(probe.Definition{
		Name:      Name,
		NewConfig: func() probe.Config { return DefaultConfig() },
		New: func(cfg probe.Config, log telegraf.Logger) probe.Probe {
			return newProbe(cfg.(*Config), log)
		},
	})
}
