package tcp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/influxdata/telegraf"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

var connectFlavours = []hooks.Flavour{
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{{Program: tcpbpf.ConnectProgTcpConnectBtf, Group: "sock", Event: "inet_sock_set_state"}}},
	{Kind: hooks.RawTP, Hooks: []hooks.Hook{{Program: tcpbpf.ConnectProgTcpConnectRaw, Group: "sock", Event: "inet_sock_set_state"}}},
	{Kind: hooks.Tracepoint, Hooks: []hooks.Hook{{Program: tcpbpf.ConnectProgTcpConnectTp, Group: "sock", Event: "inet_sock_set_state"}}},
}

// connectProbe is tcp_connect: handshake latency and failed connects.
type connectProbe struct {
	histogram.Settings

	base
	events  *slowevent.Reader
	reader  *histogram.Reader
	emitter *histogram.Emitter
}

func newConnectProbe(cfg *Config, log telegraf.Logger) probe.Probe {
	return &connectProbe{base: base{name: NameConnect, cfg: cfg, log: log}}
}

func (p *connectProbe) Start() error {
	spec, err := tcpbpf.LoadConnect()
	if err != nil {
		return fmt.Errorf("reading the embedded tcp_connect object: %w", err)
	}
	if err := histogram.SetScheme(spec, p.Histograms().Scheme); err != nil {
		return err
	}
	if err := p.cfg.Prepare(spec); err != nil {
		return err
	}
	pin := p.cfg.pin(hooks.TPBTF, hooks.RawTP, hooks.Tracepoint)
	if err := p.attach(spec, connectFlavours, pin, tcpbpf.ConnectMapTcpConnectHists, tcpbpf.ConnectMapTcpConnectFailed); err != nil {
		return err
	}
	reader, err := histogram.NewReader(p.att.Collection, tcpbpf.ConnectMapTcpConnectHists)
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
	p.log.Infof("%s: attached through %s%s", p.name, p.att.Kind, p.cfg.Describe())
	return nil
}

func (p *connectProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	p.emitSlowEvents(acc)
	err := histogram.ReadAll(p.reader, func(k *tcpKey, iv *histogram.Interval) {
		if !p.keep(tcpbpf.ConnectMapTcpConnectHists, k, iv.Count(), now) {
			return
		}
		tags := p.tags.tags(k)
		tags["direction"] = directionNames[k.Direction%3]
		p.emitter.Emit(acc, MeasurementConnect, tags, iv, now)
	})
	if err != nil {
		return err
	}
	err = readCounters(p.att.Collection.Maps[tcpbpf.ConnectMapTcpConnectFailed], func(k *tcpKey, n uint64) {
		if p.keep(tcpbpf.ConnectMapTcpConnectFailed, k, n, now) {
			acc.AddCounter(MeasurementFailures, map[string]any{FieldFailed: n}, p.tags.tags(k), now)
		}
	})
	if err != nil {
		return err
	}
	return p.expire()
}

// emitSlowEvents writes the slow active handshakes since the last gather:
// tag direction, fields who called connect() and the peer's address and
// port, and the local port.
func (p *connectProbe) emitSlowEvents(acc telegraf.Accumulator) {
	for _, e := range p.events.Take() {
		fields := map[string]any{
			"peer":       netip.AddrFrom16(e.Addr).Unmap().String(),
			"peer_port":  uint64(e.Size),
			"local_port": e.Detail,
		}
		slowevent.Emit(acc, p.name, &e, map[string]string{"direction": "active"}, fields)
	}
}

func (p *connectProbe) Status() probe.Status {
	return p.events.Counters(p.base.Status())
}

func (p *connectProbe) Stop() error {
	err := p.events.Close()
	p.events = nil
	return errors.Join(err, p.base.Stop())
}
