//go:build !linux

package runq

import (
	"errors"

	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

type unsupported struct{}

func newProbe(*Config, telegraf.Logger) probe.Probe { return unsupported{} }

func (unsupported) Start() error                      { return errors.New("the runq probe needs Linux") }
func (unsupported) Gather(telegraf.Accumulator) error { return nil }
func (unsupported) Status() probe.Status              { return probe.Status{} }
func (unsupported) Stop() error                       { return nil }
