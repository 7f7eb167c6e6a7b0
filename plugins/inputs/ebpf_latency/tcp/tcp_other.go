//go:build !linux

package tcp

import (
	"errors"

	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

type unsupported struct{}

func newRTTProbe(*Config, telegraf.Logger) probe.Probe         { return unsupported{} }
func newConnectProbe(*Config, telegraf.Logger) probe.Probe     { return unsupported{} }
func newRetransmitsProbe(*Config, telegraf.Logger) probe.Probe { return unsupported{} }

func (unsupported) Start() error                      { return errors.New("the TCP probes need Linux") }
func (unsupported) Gather(telegraf.Accumulator) error { return nil }
func (unsupported) Status() probe.Status              { return probe.Status{} }
func (unsupported) Stop() error                       { return nil }
