// Package funcprobe is the func probe: latency of user-space functions
// (executables and shared libraries) named in the config, by uprobe and
// uretprobe, from the eBPF program in bpf/func.
package funcprobe

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Name is the probe's name in `probes`; Table is its config key.
const (
	Name  = "func"
	Table = "functions"
)

func init() {
	probe.Register(probe.Definition{
		Name:      Name,
		Table:     Table,
		NewConfig: func() probe.Config { return DefaultConfig() },
		New: func(cfg probe.Config, log telegraf.Logger) probe.Probe {
			return newProbe(*cfg.(*Config), log)
		},
	})
}
