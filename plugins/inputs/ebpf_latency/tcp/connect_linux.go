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
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// connectFlavours lists tcp_connect's hooks, best first. tp_btf comes
// twice: with start times in socket storage (Linux 5.11+), then with the
// LRU map every other flavour uses.
var connectFlavours = []hooks.Flavour{
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{{Program: tcpbpf.ConnectProgTcpConnectBtf, Group: "sock", Event: "inet_sock_set_state"}}},
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{{Program: tcpbpf.ConnectProgTcpConnectLru, Group: "sock", Event: "inet_sock_set_state"}}},
	{Kind: hooks.RawTP, Hooks: []hooks.Hook{{Program: tcpbpf.ConnectProgTcpConnectRaw, Group: "sock", Event: "inet_sock_set_state"}}},
	{Kind: hooks.Tracepoint, Hooks: []hooks.Hook{{Program: tcpbpf.ConnectProgTcpConnectTp, Group: "sock", Event: "inet_sock_set_state"}}},
}

// DefaultStartSlots sizes the LRU map of connects in flight where socket
// storage is unavailable; past it the oldest start is evicted (counted in
// active_untimed when its connect ends).
const DefaultStartSlots = 16384

// connectProbe is tcp_connect: handshake latency and failed connects.
type connectProbe struct {
	histogram.Settings

	base
	events  *slowevent.Reader
	reader  *histogram.Reader
	emitter *histogram.Emitter

	// Tests force the LRU fallback (noSocketStorage) and shrink it.
	noSocketStorage bool
	startSlots      uint32
}

func newConnectProbe(cfg *Config, log telegraf.Logger) probe.Probe {
	p := &connectProbe{base: base{name: NameConnect, cfg: cfg, log: log}, startSlots: DefaultStartSlots}
	p.prepare = p.prepareStarts
	return p
}

func (p *connectProbe) Start() error {
	spec, err := tcpbpf.LoadConnect()
	if err != nil {
		return fmt.Errorf("reading the embedded tcp_connect object: %w", err)
	}
	if err := histogram.SetScheme(spec, p.Histograms().Scheme); err != nil {
		return err
	}
	if err := p.cfg.Config.Prepare(spec); err != nil {
		return err
	}
	pin := p.cfg.pin(hooks.TPBTF, hooks.RawTP, hooks.Tracepoint)
	flavours := connectFlavours
	switch {
	case p.noSocketStorage || p.cfg.StartTimes == StartsLRU:
		flavours = flavours[1:]
	case p.cfg.StartTimes == StartsSocketStorage:
		flavours = flavours[:1]
	}
	if err := p.attach(spec, flavours, pin, tcpbpf.ConnectMapTcpConnectHists, tcpbpf.ConnectMapTcpConnectFailed); err != nil {
		return err
	}
	reader, err := histogram.NewReader(p.att.Collection, tcpbpf.ConnectMapTcpConnectHists, histogram.One(p.Histograms().Scheme))
	if err != nil {
		p.Stop()
		return err
	}
	events, err := p.cfg.NewReader(p.att.Collection)
	if err != nil {
		p.Stop()
		return err
	}
	p.reader, p.events, p.emitter = reader, events, histogram.NewEmitter(p.Histograms())
	p.log.Infof("%s: attached through %s, %s%s%s", p.name, p.att.Kind, p.startsWhere(), p.cfg.Config.Describe(), p.cfg.Attribution.Describe())
	return nil
}

// prepareStarts sizes the LRU map of starts and drops whichever start map
// the flavour's program does not use: a kernel without socket storage
// could not even create that map.
func (p *connectProbe) prepareStarts(spec *ebpf.CollectionSpec) error {
	if m, ok := spec.Maps[tcpbpf.ConnectMapTcpSynSent]; ok {
		m.MaxEntries = p.startSlots
	}
	dropUnreferenced(spec, tcpbpf.ConnectMapTcpStarts, tcpbpf.ConnectMapTcpSynSent)
	return nil
}

// startTimes is the start_times value the attached flavour runs: only
// the socket-storage program keeps its map.
func (p *connectProbe) startTimes() string {
	if _, ok := p.att.Collection.Maps[tcpbpf.ConnectMapTcpStarts]; ok {
		return StartsSocketStorage
	}
	return StartsLRU
}

// startsWhere says where the attached flavour keeps start times.
func (p *connectProbe) startsWhere() string {
	if p.startTimes() == StartsSocketStorage {
		return `start_times "socket_storage": start times in socket storage`
	}
	where := fmt.Sprintf(`start_times "lru": start times in an LRU map of %d connects in flight`, p.startSlots)
	if p.cfg.StartTimes == StartsAuto && p.att.Kind == hooks.TPBTF {
		where += " (this kernel gives tracing programs no socket storage: Linux 5.11+)"
	}
	return where
}

func (p *connectProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	p.emitSlowEvents(acc)
	p.begin(acc)
	err := histogram.ReadAll(p.reader, func(k *tcpKey, iv *histogram.Interval) {
		tags, ok := p.series(tcpbpf.ConnectMapTcpConnectHists, k, iv.Count(), now)
		if !ok {
			return
		}
		tags["direction"] = directionNames[k.Direction%3]
		p.emitter.Emit(acc, MeasurementConnect, tags, iv, now)
	})
	if err != nil {
		return err
	}
	err = readCounters(p.att.Collection.Maps[tcpbpf.ConnectMapTcpConnectFailed], func(k *tcpKey, n uint64) {
		if tags, ok := p.series(tcpbpf.ConnectMapTcpConnectFailed, k, n, now); ok {
			acc.AddCounter(MeasurementFailures, map[string]any{FieldFailed: n}, tags, now)
		}
	})
	if err != nil {
		return err
	}
	return p.expire()
}

// emitSlowEvents writes the slow active handshakes since the last gather
// (tag direction; fields: slowPeerFields).
func (p *connectProbe) emitSlowEvents(acc telegraf.Accumulator) {
	emitPeerEvents(acc, p.name, p.events, p.cgroups, map[string]string{"direction": "active"})
}

func (p *connectProbe) Status() probe.Status {
	st := p.events.Counters(p.base.Status())
	if p.att != nil {
		st.StartTimes = p.startTimes()
	}
	return st
}

func (p *connectProbe) Stop() error {
	err := p.events.Close()
	p.events = nil
	return errors.Join(err, p.base.Stop())
}
