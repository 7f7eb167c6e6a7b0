package tcp

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// Config is the [inputs.ebpf_latency.tcp] table, shared by tcp_rtt,
// tcp_connect and tcp_retransmits.
type Config struct {
	// PeerGroups name sets of CIDRs; a peer inside one is reported as the
	// group (longest prefix wins), matched in the kernel.
	PeerGroups []PeerGroup `toml:"peer_groups"`
	// MaxPeers bounds the addresses outside any group that get a series of
	// their own; later ones fold into peer "other".
	MaxPeers int `toml:"max_peers"`
	// Ports keeps only connections whose local or remote port is listed;
	// empty keeps all.
	Ports []int `toml:"ports"`
	// ByPort adds tag `port`, the listening side's port.
	ByPort bool `toml:"by_port"`
	// ByInterface adds tag `iface`, the device of the connection's route.
	ByInterface bool `toml:"by_interface"`
	// Hook pins a flavour: "auto", "sock_ops" (tcp_rtt only), "tp_btf",
	// "raw_tp" or "tracepoint".
	Hook string `toml:"hook"`
	// StartTimes says where tcp_connect keeps a connect's start: "auto",
	// "socket_storage" or "lru".
	StartTimes string `toml:"start_times"`

	// Buckets overrides the plugin-wide bucket scheme for this probe.
	histogram.TableBuckets
	// Slow events (tcp_connect's active handshakes, tcp_rtt's samples):
	// slow_threshold, slow_events_per_second.
	slowevent.Config
	// By cgroup: by_cgroup, cgroups, max_cgroups.
	cgroup.Attribution

	// UncachedSeries, not a config key: tcp_rtt looks every sample's
	// series up by its key, as before sockets kept their series' slot;
	// the overhead harness measures both side by side.
	UncachedSeries bool `toml:"-"`
}

// PeerGroup is one [[inputs.ebpf_latency.tcp.peer_groups]].
type PeerGroup struct {
	Name  string   `toml:"name"`
	CIDRs []string `toml:"cidrs"`
}

// Limits and defaults.
const (
	DefaultMaxPeers = 256
	// MaxMaxPeers bounds the kernel maps that max_peers sizes.
	MaxMaxPeers = 65536
	// OtherPeer is the peer tag of folded addresses.
	OtherPeer = "other"
)

var hookNames = []string{"auto", "sock_ops", "tp_btf", "raw_tp", "tracepoint"}

// Values of start_times: "auto" takes socket storage where the kernel and
// the hook allow it, else the LRU map; the others insist on one.
const (
	StartsAuto          = "auto"
	StartsSocketStorage = "socket_storage"
	StartsLRU           = "lru"
)

var startTimesNames = []string{StartsAuto, StartsSocketStorage, StartsLRU}

// DefaultConfig watches every TCP connection, one series per peer up to 256.
func DefaultConfig() *Config {
	return &Config{MaxPeers: DefaultMaxPeers, Hook: "auto", StartTimes: StartsAuto, Config: slowevent.DefaultConfig(), Attribution: cgroup.Default()}
}

// Validate checks every key; errors name the key and the bad value.
func (c *Config) Validate() error {
	if _, err := c.groupPrefixes(); err != nil {
		return err
	}
	if c.MaxPeers < 1 {
		return fmt.Errorf("max_peers: must be at least 1, got %d", c.MaxPeers)
	}
	if c.MaxPeers > MaxMaxPeers {
		return fmt.Errorf("max_peers: %d is above the limit %d", c.MaxPeers, MaxMaxPeers)
	}
	for _, p := range c.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("ports: port %d out of range 1-65535", p)
		}
	}
	if !contains(hookNames, c.Hook) {
		return fmt.Errorf("hook: unknown hook %q (want %s)", c.Hook, quoted(hookNames))
	}
	if !contains(startTimesNames, c.StartTimes) {
		return fmt.Errorf("start_times: unknown value %q (want %s)", c.StartTimes, quoted(startTimesNames))
	}
	if c.StartTimes == StartsSocketStorage && (c.Hook == "raw_tp" || c.Hook == "tracepoint") {
		return fmt.Errorf("start_times: %q needs hook \"tp_btf\" or \"auto\", not %q", c.StartTimes, c.Hook)
	}
	if err := c.Attribution.Validate(); err != nil {
		return err
	}
	return c.Config.Validate()
}

// groupPrefix is one CIDR of a group as the kernel's LPM trie holds it:
// IPv4 as ::ffff:a.b.c.d with 96 more prefix bits.
type groupPrefix struct {
	addr  [16]byte
	bits  int
	group int // index into PeerGroups
}

// groupPrefixes parses and checks peer_groups.
func (c *Config) groupPrefixes() ([]groupPrefix, error) {
	var out []groupPrefix
	names := map[string]int{}
	owner := map[netip.Prefix]int{}
	for i, g := range c.PeerGroups {
		key := fmt.Sprintf("peer_groups[%d]", i)
		switch {
		case g.Name == "":
			return nil, fmt.Errorf("%s.name: empty", key)
		case g.Name == OtherPeer:
			return nil, fmt.Errorf("%s.name: %q is reserved for folded peers", key, g.Name)
		}
		if j, dup := names[g.Name]; dup {
			return nil, fmt.Errorf("%s.name: duplicate group name %q (also peer_groups[%d])", key, g.Name, j)
		}
		names[g.Name] = i
		if len(g.CIDRs) == 0 {
			return nil, fmt.Errorf("%s.cidrs: empty list", key)
		}
		for _, s := range g.CIDRs {
			p, err := mappedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%s.cidrs: malformed CIDR %q: %v", key, s, err)
			}
			if j, dup := owner[p]; dup {
				return nil, fmt.Errorf("%s.cidrs: prefix %q is also in group %q", key, s, c.PeerGroups[j].Name)
			}
			owner[p] = i
			out = append(out, groupPrefix{addr: p.Addr().As16(), bits: p.Bits(), group: i})
		}
	}
	return out, nil
}

// mappedPrefix parses a v4 or v6 CIDR into its IPv6 form with host bits
// cleared, so equal prefixes compare equal however they are written.
func mappedPrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	return netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), bits).Masked(), nil
}

// pin is the flavour the config pins for a probe offering kinds, or nil
// (auto, or a flavour this probe has not: sock_ops for the tracing probes).
func (c *Config) pin(offered ...hooks.Kind) *hooks.Kind {
	for _, k := range offered {
		if k.String() == c.Hook {
			return &k
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
