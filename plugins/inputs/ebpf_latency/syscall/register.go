// Package syscall is the syscall probe: latency of selected syscalls per
// syscall and task comm, from the eBPF program in bpf/syscall.
package syscall

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Name is the probe's name in `probes` and its config table.
const Name = "syscall"

func init() {
	probe.Register(probe.Definition{
		Name:      Name,
		NewConfig: func() probe.Config { return DefaultConfig() },
		New: func(cfg probe.Config, log telegraf.Logger) probe.Probe {
			return newProbe(cfg.(*Config), log)
		},
	})
}
