package tcp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateNamesKeyAndValue(t *testing.T) {
	group := func(name string, cidrs ...string) PeerGroup { return PeerGroup{Name: name, CIDRs: cidrs} }
	tests := []struct {
		name string
		edit func(c *Config)
		want string // "" means valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"groups of both families", func(c *Config) {
			c.PeerGroups = []PeerGroup{group("dc1", "10.1.0.0/16", "fd00:1::/48"), group("dc2", "10.2.0.0/16")}
		}, ""},
		{"nested prefixes in two groups", func(c *Config) {
			c.PeerGroups = []PeerGroup{group("wide", "10.0.0.0/8"), group("narrow", "10.1.2.3/32")}
		}, ""},
		{"malformed CIDR", func(c *Config) {
			c.PeerGroups = []PeerGroup{group("dc1", "10.1.0.0/16"), group("dc2", "10.2.0.0/33")}
		}, `peer_groups[1].cidrs: malformed CIDR "10.2.0.0/33"`},
		{"address without length", func(c *Config) { c.PeerGroups = []PeerGroup{group("dc1", "10.1.0.1")} },
			`peer_groups[0].cidrs: malformed CIDR "10.1.0.1"`},
		{"duplicate group name", func(c *Config) {
			c.PeerGroups = []PeerGroup{group("dc1", "10.1.0.0/16"), group("dc1", "10.2.0.0/16")}
		}, `peer_groups[1].name: duplicate group name "dc1" (also peer_groups[0])`},
		{"identical prefix in two groups", func(c *Config) {
			c.PeerGroups = []PeerGroup{group("dc1", "10.1.0.0/16"), group("dc2", "10.1.7.7/16")}
		}, `peer_groups[1].cidrs: prefix "10.1.7.7/16" is also in group "dc1"`},
		{"identical prefix written as v4-mapped", func(c *Config) {
			c.PeerGroups = []PeerGroup{group("dc1", "10.1.0.0/16"), group("dc2", "::ffff:10.1.0.0/112")}
		}, `peer_groups[1].cidrs: prefix "::ffff:10.1.0.0/112" is also in group "dc1"`},
		{"empty name", func(c *Config) { c.PeerGroups = []PeerGroup{group("", "10.1.0.0/16")} },
			"peer_groups[0].name: empty"},
		{"reserved name", func(c *Config) { c.PeerGroups = []PeerGroup{group("other", "10.1.0.0/16")} },
			`peer_groups[0].name: "other" is reserved for folded peers`},
		{"no cidrs", func(c *Config) { c.PeerGroups = []PeerGroup{group("dc1")} },
			"peer_groups[0].cidrs: empty list"},
		{"max_peers zero", func(c *Config) { c.MaxPeers = 0 }, "max_peers: must be at least 1, got 0"},
		{"max_peers negative", func(c *Config) { c.MaxPeers = -5 }, "max_peers: must be at least 1, got -5"},
		{"max_peers too large", func(c *Config) { c.MaxPeers = 1 << 20 }, "max_peers: 1048576 is above the limit 65536"},
		{"port zero", func(c *Config) { c.Ports = []int{5432, 0} }, "ports: port 0 out of range 1-65535"},
		{"port too large", func(c *Config) { c.Ports = []int{65536} }, "ports: port 65536 out of range 1-65535"},
		{"unknown hook", func(c *Config) { c.Hook = "kprobe" },
			`hook: unknown hook "kprobe" (want "auto", "sock_ops", "tp_btf", "raw_tp", "tracepoint")`},
		{"unknown start_times", func(c *Config) { c.StartTimes = "hash" },
			`start_times: unknown value "hash" (want "auto", "socket_storage", "lru")`},
		{"socket storage without tp_btf", func(c *Config) { c.Hook, c.StartTimes = "raw_tp", "socket_storage" },
			`start_times: "socket_storage" needs hook "tp_btf" or "auto", not "raw_tp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(cfg)
			err := cfg.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// The kernel's LPM trie holds IPv4 as v4-mapped IPv6, host bits cleared.
func TestGroupPrefixesAreMappedAndMasked(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PeerGroups = []PeerGroup{{Name: "a", CIDRs: []string{"192.0.2.77/24"}}, {Name: "b", CIDRs: []string{"2001:db8::1/32"}}}
	got, err := cfg.groupPrefixes()
	require.NoError(t, err)
	want4 := [16]byte{10: 0xff, 11: 0xff, 12: 192, 13: 0, 14: 2}
	want6 := [16]byte{0x20, 0x01, 0x0d, 0xb8}
	require.Equal(t, []groupPrefix{{addr: want4, bits: 120, group: 0}, {addr: want6, bits: 32, group: 1}}, got)
}

// The table decodes from TOML, arrays of peer groups included, and a bad
// value reaches the operator with the full key path.
