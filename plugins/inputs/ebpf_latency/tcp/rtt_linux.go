package tcp

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// rttFlavours lists tcp_rtt's hooks, best first: sock_ops on the cgroup v2
// root (when one is mounted), then tcp:tcp_probe.
func rttFlavours(cgroup string) []hooks.Flavour {
	var fl []hooks.Flavour
	if cgroup != "" {
		// Event only names the target in messages.
		fl = append(fl, hooks.Flavour{Kind: hooks.SockOps, Hooks: []hooks.Hook{{Program: tcpbpf.RttProgTcpRttSockops, Event: "cgroup " + cgroup, Cgroup: cgroup}}})
	}
	return append(fl,
		hooks.Flavour{Kind: hooks.TPBTF, Hooks: []hooks.Hook{{Program: tcpbpf.RttProgTcpRttProbeBtf, Group: "tcp", Event: "tcp_probe"}}},
		hooks.Flavour{Kind: hooks.RawTP, Hooks: []hooks.Hook{{Program: tcpbpf.RttProgTcpRttProbeRaw, Group: "tcp", Event: "tcp_probe"}}},
		hooks.Flavour{Kind: hooks.Tracepoint, Hooks: []hooks.Hook{{Program: tcpbpf.RttProgTcpRttProbeTp, Group: "tcp", Event: "tcp_probe"}}},
	)
}

// rttProbe is tcp_rtt: round-trip time per peer.
type rttProbe struct {
	histogram.Settings

	base
	reader  *histogram.Reader
	slots   *rttSlots
	emitter *histogram.Emitter
	events  *slowevent.Reader
	armed   map[string]uint64 // counts of the start-time arming of old connections
	cgroup  string            // cgroup v2 directory for sock_ops; "" finds the mount
}

func newRTTProbe(cfg *Config, log telegraf.Logger) probe.Probe {
	p := &rttProbe{base: base{name: NameRTT, cfg: cfg, log: log}}
	p.prepare = func(spec *ebpf.CollectionSpec) error {
		// The connect() callers' and the sockets' slots serve sock_ops only.
		dropUnreferenced(spec, tcpbpf.RttMapTcpRttOwners, tcpbpf.RttMapTcpRttCache)
		if err := hooks.SetKnobs(spec, map[string]any{tcpbpf.RttVarCacheSeries: !cfg.UncachedSeries}); err != nil {
			return err
		}
		return sizeSlotMaps(spec)
	}
	p.expired = func(_ string, gone []tcpKey) error { return p.slots.expired(gone) }
	return p
}

func (p *rttProbe) Start() error {
	spec, err := tcpbpf.LoadRtt()
	if err != nil {
		return fmt.Errorf("reading the embedded tcp_rtt object: %w", err)
	}
	if err := histogram.SetScheme(spec, p.Histograms().Scheme); err != nil {
		return err
	}
	if err := p.cfg.Config.Prepare(spec); err != nil {
		return err
	}
	pin := p.cfg.pin(hooks.SockOps, hooks.TPBTF, hooks.RawTP, hooks.Tracepoint)
	cgroup, cgErr := p.cgroup, error(nil)
	if cgroup == "" {
		cgroup, cgErr = kernel.Cgroup2Mount()
	}
	if cgErr != nil {
		if pin != nil && *pin == hooks.SockOps {
			return fmt.Errorf("hook = \"sock_ops\": %w", cgErr)
		}
		p.log.Warnf("%s: hook sock_ops unavailable, fell back: %v", p.name, cgErr)
	}
	if err := p.attach(spec, rttFlavours(cgroup), pin, tcpbpf.RttMapTcpRttHists); err != nil {
		return err
	}
	reader, err := histogram.NewReader(p.att.Collection, tcpbpf.RttMapTcpRttHists, histogram.One(p.Histograms().Scheme))
	if err != nil {
		p.Stop()
		return err
	}
	if p.slots, err = newRTTSlots(p.att.Collection); err != nil {
		p.Stop()
		return err
	}
	events, err := p.cfg.NewReader(p.att.Collection)
	if err != nil {
		p.Stop()
		return err
	}
	p.reader, p.events, p.emitter = reader, events, histogram.NewEmitter(p.Histograms())
	p.armed = map[string]uint64{}
	if p.att.Kind == hooks.SockOps {
		p.armOld()
	} else {
		p.log.Warnf("%s: measuring through tcp:tcp_probe (%s): smoothed RTT at every received segment, costly on busy hosts", p.name, p.att.Kind)
	}
	p.log.Infof("%s: attached through %s%s%s", p.name, p.att.Kind, p.cfg.Config.Describe(), p.cfg.Attribution.Describe())
	return nil
}

// armOld arms connections established before the attach; where the kernel
// cannot, it says so once: those connections go unmeasured until they
// reconnect.
func (p *rttProbe) armOld() {
	armed, failed, notArmed, err := armExisting(p.cfg)
	p.armed[armCounterNames[0]], p.armed[armCounterNames[1]] = armed, failed
	if notArmed != nil {
		p.log.Infof("%s: connections in other network namespaces older than the plugin are measured from their next reconnect: %v", p.name, notArmed)
	}
	switch {
	case err != nil:
		p.log.Warnf("%s: connections older than the plugin are not measured until they reconnect: %v", p.name, err)
	case failed > 0:
		p.log.Warnf("%s: %d connections older than the plugin are not measured until they reconnect: this kernel cannot arm them (needs Linux 6.12+)", p.name, failed)
	}
}

func (p *rttProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	emitPeerEvents(acc, p.name, p.events, p.cgroups, nil)
	p.begin(acc)
	series, err := p.slots.read()
	if err != nil {
		return err
	}
	// A slot without a series is free, or taken after the read: its
	// samples are read at the next gather.
	emit := func(slot *uint32, iv *histogram.Interval) {
		k, ok := series[*slot]
		if !ok {
			return
		}
		if tags, ok := p.series(tcpbpf.RttMapTcpRttSeries, &k, iv.Count(), now); ok {
			p.emitter.Emit(acc, MeasurementRTT, tags, iv, now)
		}
	}
	if used, sparse := p.slots.used(); sparse {
		err = histogram.ReadAllOf(p.reader, used, emit)
	} else {
		err = histogram.ReadAll(p.reader, emit)
	}
	if err != nil {
		return err
	}
	return p.expire()
}

func (p *rttProbe) Status() probe.Status {
	st := p.events.Counters(p.base.Status())
	for k, v := range p.armed {
		st.Counters[k] = v
	}
	return st
}

func (p *rttProbe) Stop() error {
	err := p.events.Close()
	p.events = nil
	return errors.Join(err, p.base.Stop())
}
