// Package runq is the run-queue probe: how long runnable tasks wait for a
// CPU, from wakeup (or preemption) to running, from the eBPF program in
// bpf/runq.
package runq

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Name is the probe's name in `probes` and its config table.
const Name = "runq"

func init() {
	probe.Register(probe.Definition{
		Name:      Name,
		NewConfig: func() probe.Config { return DefaultConfig() },
		New: func(cfg probe.Config, log telegraf.Logger) probe.Probe {
			return newProbe(cfg.(*Config), log)
		},
	})
}
