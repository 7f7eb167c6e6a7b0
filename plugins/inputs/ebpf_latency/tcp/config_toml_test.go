package tcp_test

// An external test package: the plugin imports this probe, so decoding
// through ebpf_latency.Parse cannot live in package tcp.

import (
	"testing"

	"github.com/stretchr/testify/require"

	ebpflatency "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/tcp"
)

func TestConfigFromTOML(t *testing.T) {
	good := `
[[inputs.ebpf_latency]]
  probes = ["tcp_rtt", "tcp_connect", "tcp_retransmits"]
  [inputs.ebpf_latency.tcp]
    max_peers = 64
    ports = [5432]
    by_port = true
    [[inputs.ebpf_latency.tcp.peer_groups]]
      name = "dc2"
      cidrs = ["10.2.0.0/16", "fd00:2::/48"]
    [[inputs.ebpf_latency.tcp.peer_groups]]
      name = "standby"
      cidrs = ["10.2.9.9/32"]
`
	e, err := ebpflatency.Parse([]byte(good))
	require.NoError(t, err)
	cfg := e.Configs[tcp.Table].(*tcp.Config)
	require.Equal(t, 64, cfg.MaxPeers)
	require.Equal(t, []int{5432}, cfg.Ports)
	require.True(t, cfg.ByPort)
	require.Equal(t, "auto", cfg.Hook, "unset keys keep their defaults")
	require.Equal(t, []tcp.PeerGroup{{"dc2", []string{"10.2.0.0/16", "fd00:2::/48"}}, {"standby", []string{"10.2.9.9/32"}}}, cfg.PeerGroups)

	bad := `
[[inputs.ebpf_latency]]
  probes = ["tcp_connect"]
  [[inputs.ebpf_latency.tcp.peer_groups]]
    name = "dc2"
    cidrs = ["10.2.0.0/16"]
  [[inputs.ebpf_latency.tcp.peer_groups]]
    name = "dc2"
    cidrs = ["10.3.0.0/16"]
`
	_, err = ebpflatency.Parse([]byte(bad))
	require.EqualError(t, err, `inputs.ebpf_latency.tcp.peer_groups[1].name: duplicate group name "dc2" (also peer_groups[0])`)
}
