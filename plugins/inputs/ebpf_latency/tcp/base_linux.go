package tcp

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Map and knob names every TCP object shares (tcp_peer.bpf.h); the
// Connect* constants name them for all three objects.
const (
	mapGroups   = tcpbpf.ConnectMapTcpGroups
	mapPeers    = tcpbpf.ConnectMapTcpPeers
	mapCounters = tcpbpf.ConnectMapTcpCounters

	varByPort       = tcpbpf.ConnectVarByPort
	varByInterface  = tcpbpf.ConnectVarByInterface
	varHasGroups    = tcpbpf.ConnectVarHasGroups
	varFilterPorts  = tcpbpf.ConnectVarFilterPorts
	varWatchedPorts = tcpbpf.ConnectVarWatchedPorts
)

// tcpKey is struct tcp_key, identical in every TCP object.
type tcpKey = tcpbpf.ConnectTcpKey

// tcpAddr is struct tcp_addr, the key of the peer slots (tcp_peers).
type tcpAddr = tcpbpf.ConnectTcpAddr

// base is what the three probes share: the loaded object, its peer
// tables, and turning keys into tags.
type base struct {
	idle.Setting

	name    string
	cfg     *Config
	log     telegraf.Logger
	att     *hooks.Attached
	tags    *tagger
	expiry  peerExpiry
	cgroups *cgroup.Tagger // nil unless by_cgroup
	// prepare, if set, edits a flavour's spec after the shared knobs.
	prepare func(spec *ebpf.CollectionSpec) error
	// expired, if set, learns the series expire deleted from a map.
	expired func(mapName string, gone []tcpKey) error
}

// attach loads spec through the first flavour that works, after sizing
// series maps and setting the shared knobs, then fills the peer groups.
func (b *base) attach(spec *ebpf.CollectionSpec, flavours []hooks.Flavour, pin *hooks.Kind, seriesMaps ...string) error {
	prefixes, err := b.cfg.groupPrefixes()
	if err != nil {
		return err
	}
	cuts := histogram.BudgetCuts{}
	att, err := hooks.Attach(spec, flavours, hooks.Options{
		Pin: pin,
		Prepare: func(spec *ebpf.CollectionSpec, _ hooks.Kind) error {
			if err := prepareSpec(spec, b.cfg, len(prefixes), seriesMaps, cuts); err != nil {
				return err
			}
			if err := b.cfg.Attribution.Prepare(spec); err != nil {
				return err
			}
			if b.prepare != nil {
				return b.prepare(spec)
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	if err := fillGroups(att.Collection.Maps[mapGroups], prefixes); err != nil {
		att.Close()
		return err
	}
	cgroups, err := b.cfg.NewTagger(att.Collection)
	if err != nil {
		att.Close()
		return err
	}
	for _, a := range att.Passed {
		b.log.Warnf("%s: hook %s unavailable, fell back: %v", b.name, a.Kind, a.Err)
	}
	cuts.Warn(b.log, b.name, "series_full", "max_peers, peer_groups, by_port, by_interface, max_cgroups")
	b.att, b.cgroups = att, cgroups
	b.tags = newTagger(b.cfg)
	b.expiry = peerExpiry{after: b.IdleAfter()}
	return nil
}

// prepareSpec sizes the maps from the config and sets the shared knobs. It
// notes in cuts each series map the memory budget cut below its size.
func prepareSpec(spec *ebpf.CollectionSpec, cfg *Config, prefixes int, seriesMaps []string, cuts histogram.BudgetCuts) error {
	sizes := map[string]uint32{mapGroups: uint32(max(prefixes, 1)), mapPeers: uint32(cfg.MaxPeers)}
	for _, name := range seriesMaps {
		sizes[name] = uint32(min(int(seriesLimit(cfg, prefixes))*cfg.SeriesPerKey(), 1<<20))
	}
	for name, n := range sizes {
		m, ok := spec.Maps[name]
		if !ok {
			return fmt.Errorf("object lacks map %s", name)
		}
		m.MaxEntries = n
		if m.Type == ebpf.PerCPUHash || m.Type == ebpf.PerCPUArray { // per-CPU series: within the memory budget
			if _, err := cuts.Fit(spec, name, n); err != nil {
				return err
			}
		}
	}
	return hooks.SetKnobs(spec, map[string]any{
		varByPort:      cfg.ByPort,
		varByInterface: cfg.ByInterface,
		varHasGroups:   prefixes > 0,
	}, portKnobs(cfg))
}

// dropUnreferenced removes the named maps that no program left in spec
// uses, so that they are never created.
func dropUnreferenced(spec *ebpf.CollectionSpec, names ...string) {
	used := map[string]bool{}
	for _, prog := range spec.Programs {
		for _, ins := range prog.Instructions {
			if ref := ins.Reference(); ref != "" {
				used[ref] = true
			}
		}
	}
	for _, name := range names {
		if !used[name] {
			delete(spec.Maps, name)
		}
	}
}

// portKnobs are the `ports` filter's knobs (tcp_ports.bpf.h).
func portKnobs(cfg *Config) map[string]any {
	var bits [1024]uint64
	for _, p := range cfg.Ports {
		bits[p>>6] |= 1 << (p & 63)
	}
	return map[string]any{varFilterPorts: len(cfg.Ports) > 0, varWatchedPorts: bits}
}

// seriesLimit bounds a series map: every peer, group and "other", times
// what by_port, by_interface and the connect direction (tcp_rtt: its slots
// pending release, sizeSlotMaps) multiply. Series beyond it are lost and
// counted (series_full).
func seriesLimit(cfg *Config, prefixes int) uint32 {
	n := (cfg.MaxPeers + prefixes + 1) * 2
	if cfg.ByPort {
		n *= 4
	}
	if cfg.ByInterface {
		n *= 2
	}
	return uint32(min(max(n, 64), 1<<18))
}

// fillGroups writes the peer groups' prefixes into the LPM trie.
func fillGroups(m *ebpf.Map, prefixes []groupPrefix) error {
	for _, p := range prefixes {
		key := tcpbpf.ConnectTcpPrefix{Prefixlen: uint32(p.bits), Addr: p.addr}
		if err := m.Update(&key, uint32(p.group), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("writing peer group prefix: %w", err)
		}
	}
	return nil
}

// readCounters sums a per-CPU hash of tcp_key -> __u64 and passes each
// series to fn.
func readCounters(m *ebpf.Map, fn func(k *tcpKey, n uint64)) error {
	var (
		key    tcpKey
		perCPU []uint64
	)
	it := m.Iterate()
	for it.Next(&key, &perCPU) {
		var sum uint64
		for _, v := range perCPU {
			sum += v
		}
		fn(&key, sum)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", m.String(), err)
	}
	return nil
}

// Status reports the hook and the shared health counters.
func (b *base) Status() probe.Status {
	st := probe.StatusOf(b.att, mapCounters, counterNames)
	if b.att != nil {
		b.cgroups.Counters(st.Counters)
	}
	return st
}

// Stop detaches everything; safe to call twice.
func (b *base) Stop() error {
	if b.att == nil {
		return nil
	}
	err := b.att.Close()
	b.att, b.cgroups = nil, nil
	return err
}
