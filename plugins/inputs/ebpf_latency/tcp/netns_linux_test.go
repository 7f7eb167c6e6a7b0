package tcp

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// netnsIfaceNames resolves interface names inside ns instead of the
// plugin's own namespace.
func netnsIfaceNames(t *testing.T, ns *testenv.Netns) *ifaceNames {
	t.Helper()
	h, err := netns.GetFromPath(ns.Path)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	nl, err := netlink.NewHandleAt(h)
	require.NoError(t, err)
	t.Cleanup(nl.Close)
	names := newIfaceNames()
	names.handle = nl
	return names
}
