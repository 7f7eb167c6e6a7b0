package tcp

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/captest"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

const privMode = "EBPF_LATENCY_TCP_PRIV"

// As nobody: without CAP_NET_ADMIN, sock_ops is refused with that name and
// auto falls back saying so; with it (and no CAP_SYS_ADMIN) tcp_rtt runs on
// sock_ops, arms an older connection of its own network namespace without
// setns, says why other namespaces wait, and measures.
func TestRTTUnprivileged(t *testing.T) {
	if !captest.InChild() {
		base := []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon}
		t.Run("without CAP_NET_ADMIN", func(t *testing.T) { captest.Run(t, base, privMode+"=without") })
		t.Run("with CAP_NET_ADMIN", func(t *testing.T) {
			captest.Run(t, append(base, kernel.CapNetAdmin), privMode+"=with")
		})
		return
	}
	require.NoError(t, kernel.CheckPrerequisites())
	if os.Getenv(privMode) == "without" {
		cfg := DefaultConfig()
		cfg.Hook = "sock_ops"
		require.NoError(t, cfg.Validate())
		err := newRTTProbe(cfg, testutil.Logger{}).Start()
		require.EqualError(t, err, "sock_ops: needs CAP_NET_ADMIN (cgroup sock_ops)")

		log := &testutil.CaptureLogger{}
		cfg = DefaultConfig()
		require.NoError(t, cfg.Validate())
		p := newRTTProbe(cfg, log)
		require.NoError(t, p.Start())
		defer p.Stop()
		require.Equal(t, "tp_btf", p.Status().Hook)
		require.Contains(t, strings.Join(log.Warnings(), "\n"), "tcp_rtt: hook sock_ops unavailable, fell back: needs CAP_NET_ADMIN (cgroup sock_ops)\n")
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go serveEcho(ln)
	old, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer old.Close()
	roundTrips(t, old, 2)

	log := &testutil.CaptureLogger{}
	cfg := DefaultConfig()
	cfg.Ports = []int{ln.Addr().(*net.TCPAddr).Port}
	require.NoError(t, cfg.Validate())
	p := newRTTProbe(cfg, log)
	require.NoError(t, p.Start())
	defer p.Stop()
	require.Equal(t, "sock_ops", p.Status().Hook)
	require.Equal(t, uint64(2), p.Status().Counters["sockets_armed"], "both ends of the older connection, without setns")
	var said bool
	for _, m := range log.Messages() {
		said = said || strings.Contains(m.Text, "needs CAP_SYS_ADMIN (setns into the other network namespaces")
	}
	require.True(t, said, "why other namespaces' connections wait: %v", log.Messages())

	roundTrips(t, old, 10)
	s := histSeries(gather(t, p), MeasurementRTT)["peer=127.0.0.1"]
	require.NotNil(t, s, "the older connection is measured")
	// Both ends share the series on loopback: at least the client's sample
	// per round trip.
	require.GreaterOrEqual(t, s.count, uint64(10))
}
