package tcp

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A clean path retransmits nothing; packets lost on the line are
// retransmitted, and every retransmitted segment the client's kernel
// counts (tcpi_total_retrans) is counted for its peer, through every hook.
func TestRetransmitsCountedPerPeer(t *testing.T) {
	testenv.RequirePrivileged(t)
	const size = 256 << 10
	for _, hook := range []string{"tp_btf", "raw_tp", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			line := testenv.NewDelayLine(t, 0)
			port := serve(t, line.B)
			cfg := DefaultConfig()
			cfg.Hook, cfg.Ports = hook, []int{port}
			p := startProbe(t, NameRetransmits, cfg)
			require.Equal(t, hook, p.Status().Hook)
			peer := "peer=" + line.B4.String()

			c := dial(t, line.A, line.B4, port)
			upload(t, c, size)
			require.Zero(t, totalRetrans(t, c), "clean path")
			require.Empty(t, counterSeries(t, gather(t, p), MeasurementRetransmits, FieldSegments))

			line.DropAToB(5)
			upload(t, c, size)
			want := totalRetrans(t, c)
			require.Positive(t, want, "lost packets are retransmitted")
			require.Equal(t, map[string]uint64{peer: uint64(want)},
				counterSeries(t, gather(t, p), MeasurementRetransmits, FieldSegments))
		})
	}
}

// Over a veth, TCP hands the device GSO packets of many segments; losing
// some makes the kernel retransmit multi-segment skbs, and every segment
// counts (the tracepoint fires once per skb).
func TestRetransmitsCountGSOSegments(t *testing.T) {
	testenv.RequirePrivileged(t)
	const size = 4 << 20
	l := testenv.NewVethLink(t)
	port := serve(t, l.B)
	dropper := testenv.NewDropper(t, l.B, l.IfB)
	cfg := DefaultConfig()
	cfg.Ports = []int{port}
	p := startProbe(t, NameRetransmits, cfg)

	c := dial(t, l.A, l.B4, port)
	upload(t, c, size) // grow the congestion window: big GSO packets
	before := totalRetrans(t, c)
	dropper.Drop(t, 3)
	upload(t, c, size)
	want := totalRetrans(t, c)
	require.Greater(t, want, before, "lost packets are retransmitted")
	got := counterSeries(t, gather(t, p), MeasurementRetransmits, FieldSegments)
	require.Equal(t, map[string]uint64{"peer=" + l.B4.String(): uint64(want)}, got)
	require.Greater(t, want-before, uint32(3), "more segments than packets lost: GSO packets")
	t.Logf("%d segments retransmitted after 3 packets lost", want-before)
}

// totalRetrans is the kernel's count of segments c retransmitted, read once
// every segment is acknowledged: until then a late (even spurious)
// retransmission could still reach the probe after this count was read.
func totalRetrans(t *testing.T, c *net.TCPConn) uint32 {
	t.Helper()
	var info *unix.TCPInfo
	require.Eventually(t, func() bool {
		info = tcpInfo(t, c)
		return info.Unacked == 0
	}, 10*time.Second, 5*time.Millisecond, "segments still unacknowledged")
	return info.Total_retrans
}

func tcpInfo(t *testing.T, c *net.TCPConn) *unix.TCPInfo {
	t.Helper()
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	var (
		info   *unix.TCPInfo
		ctlErr error
	)
	require.NoError(t, raw.Control(func(fd uintptr) {
		info, ctlErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}))
	require.NoError(t, ctlErr)
	return info
}
