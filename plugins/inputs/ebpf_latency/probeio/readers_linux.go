// Package probeio opens, once for every histogram probe, what it reads from
// its attached programs at each gather: the histogram map, the slow-event
// ring buffer and the cgroup tagger.
package probeio

import (
	"errors"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// Readers of one attached probe.
type Readers struct {
	Hists   *histogram.Reader
	Events  *slowevent.Reader // nil without slow_threshold
	Cgroups *cgroup.Tagger    // nil without by_cgroup
}

// Open opens the readers of att's histogram map hists (of shape), its slow
// events and its cgroups. On error it closes att and what it had opened.
func Open(att *hooks.Attached, hists string, shape histogram.Shape,
	events *slowevent.Config, attribution *cgroup.Attribution) (Readers, error) {
	var r Readers
	var err error
	if r.Hists, err = histogram.NewReader(att.Collection, hists, shape); err != nil {
		return r, errors.Join(err, att.Close())
	}
	if r.Events, err = events.NewReader(att.Collection); err != nil {
		return r, errors.Join(err, att.Close())
	}
	if r.Cgroups, err = attribution.NewTagger(att.Collection); err != nil {
		return r, errors.Join(err, r.Events.Close(), att.Close())
	}
	return r, nil
}
