package tcp

import (
	"fmt"
	"time"

	"github.com/influxdata/telegraf"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

var retransmitsFlavours = []hooks.Flavour{
	{Kind: hooks.TPBTF, Hooks: []hooks.Hook{{Program: tcpbpf.RetransmitsProgTcpRetransBtf, Group: "tcp", Event: "tcp_retransmit_skb"}}},
	{Kind: hooks.RawTP, Hooks: []hooks.Hook{{Program: tcpbpf.RetransmitsProgTcpRetransRaw, Group: "tcp", Event: "tcp_retransmit_skb"}}},
	{Kind: hooks.Tracepoint, Hooks: []hooks.Hook{{Program: tcpbpf.RetransmitsProgTcpRetransTp, Group: "tcp", Event: "tcp_retransmit_skb"}}},
}

// retransmitsProbe is tcp_retransmits: retransmitted segments per peer.
type retransmitsProbe struct {
	base
}

func newRetransmitsProbe(cfg *Config, log telegraf.Logger) probe.Probe {
	return &retransmitsProbe{base: base{name: NameRetransmits, cfg: cfg, log: log}}
}

func (p *retransmitsProbe) Start() error {
	spec, err := tcpbpf.LoadRetransmits()
	if err != nil {
		return fmt.Errorf("reading the embedded tcp_retransmits object: %w", err)
	}
	// Newer kernels pass err and fire for failed attempts too.
	args, err := kernel.TracepointArgs("tcp_retransmit_skb")
	if err != nil {
		args = 2 // tp_btf and raw_tp may fail to load; tracepoints remain
	}
	if err := hooks.SetKnobs(spec, map[string]any{tcpbpf.RetransmitsVarTcpRetransmitTpHasErr: args >= 3}); err != nil {
		return err
	}
	pin := p.cfg.pin(hooks.TPBTF, hooks.RawTP, hooks.Tracepoint)
	if err := p.attach(spec, retransmitsFlavours, pin, tcpbpf.RetransmitsMapTcpRetransSegs); err != nil {
		return err
	}
	p.log.Infof("%s: attached through %s%s", p.name, p.att.Kind, p.cfg.Attribution.Describe())
	return nil
}

func (p *retransmitsProbe) Gather(acc telegraf.Accumulator) error {
	if p.att == nil {
		return nil
	}
	now := time.Now()
	p.begin(acc)
	err := readCounters(p.att.Collection.Maps[tcpbpf.RetransmitsMapTcpRetransSegs], func(k *tcpKey, n uint64) {
		if tags, ok := p.series(tcpbpf.RetransmitsMapTcpRetransSegs, k, n, now); ok {
			acc.AddCounter(MeasurementRetransmits, map[string]any{FieldSegments: n}, tags, now)
		}
	})
	if err != nil {
		return err
	}
	return p.expire()
}
