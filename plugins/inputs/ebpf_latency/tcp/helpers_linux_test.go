package tcp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

const msgSize = 64 // bytes of each request and response

// startProbe starts a registered TCP probe, after setup (plugin-wide
// settings) if given; it stops at test end.
func startProbe(t *testing.T, name string, cfg *Config, setup ...func(probe.Probe)) probe.Probe {
	t.Helper()
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	def, ok := probe.Lookup(name)
	require.True(t, ok)
	p := def.New(cfg, testutil.Logger{})
	testenv.UseScheme(p)
	for _, f := range setup {
		f(p)
	}
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	return p
}

func gather(t *testing.T, p probe.Probe) *testutil.Accumulator {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	return &acc
}

// serve runs an echo server on the wildcard address of ns (both
// families: IPv4 clients reach it as v4-mapped IPv6) and returns its port.
func serve(t *testing.T, ns *testenv.Netns) int {
	t.Helper()
	var (
		ln  net.Listener
		err error
	)
	ns.Run(t, func() { ln, err = net.Listen("tcp", "[::]:0") })
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go serveEcho(ln)
	return ln.Addr().(*net.TCPAddr).Port
}

// serveEcho answers every connection ln accepts with echo until ln closes.
func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go echo(c)
	}
}

// echo answers each msgSize request with msgSize bytes until EOF, and a
// bulk upload (first byte 'B') with one byte once it is all read.
func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, msgSize)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if buf[0] == 'B' {
			n, _ := strconv.Atoi(string(bytes.TrimRight(buf[1:], "\x00")))
			if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
				return
			}
			c.Write([]byte{1})
			continue
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// dial connects from ns; the connection closes at test end.
func dial(t *testing.T, ns *testenv.Netns, addr netip.Addr, port int) *net.TCPConn {
	t.Helper()
	c, err := tryDial(t, ns, addr, port)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func tryDial(t *testing.T, ns *testenv.Netns, addr netip.Addr, port int) (*net.TCPConn, error) {
	t.Helper()
	var (
		c   net.Conn
		err error
	)
	ns.Run(t, func() { c, err = net.Dial("tcp", netip.AddrPortFrom(addr, uint16(port)).String()) })
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// roundTrips sends n requests and waits for each response.
func roundTrips(t *testing.T, c net.Conn, n int) {
	t.Helper()
	buf := make([]byte, msgSize)
	for i := 0; i < n; i++ {
		buf[0] = 'R'
		_, err := c.Write(buf)
		require.NoError(t, err)
		_, err = io.ReadFull(c, buf)
		require.NoError(t, err)
	}
}

// upload sends size bytes and waits for the server to have read them all.
func upload(t *testing.T, c net.Conn, size int) {
	t.Helper()
	hdr := make([]byte, msgSize)
	copy(hdr, "B"+strconv.Itoa(size))
	_, err := c.Write(hdr)
	require.NoError(t, err)
	_, err = c.Write(make([]byte, size))
	require.NoError(t, err)
	_, err = io.ReadFull(c, hdr[:1])
	require.NoError(t, err)
}

// refused dials a port nothing listens on and expects a refusal.
func refused(t *testing.T, ns *testenv.Netns, addr netip.Addr, port int) {
	t.Helper()
	_, err := tryDial(t, ns, addr, port)
	require.Error(t, err)
	require.True(t, errors.Is(err, syscall.ECONNREFUSED), "dial: %v", err)
}

// series holds one histogram series' lines from one gather.
type series struct {
	count   uint64
	buckets map[string]uint64 // le -> cumulative count
}

// histSeries collects the histogram series of measurement by their tags
// (le removed), keyed by the tags' canonical string.
func histSeries(acc *testutil.Accumulator, measurement string) map[string]*series {
	out := map[string]*series{}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != measurement {
			continue
		}
		tags := m.Tags()
		le, hasLE := tags[histogram.TagBound]
		delete(tags, histogram.TagBound)
		id := tagString(tags)
		s := out[id]
		if s == nil {
			s = &series{buckets: map[string]uint64{}}
			out[id] = s
		}
		if hasLE {
			v, _ := m.GetField(histogram.FieldBucket)
			s.buckets[le] = v.(uint64)
			continue
		}
		c, _ := m.GetField(histogram.FieldCount)
		s.count = c.(uint64)
	}
	return out
}

// histCounts is the sample count of each histogram series of measurement.
func histCounts(acc *testutil.Accumulator, measurement string) map[string]uint64 {
	out := map[string]uint64{}
	for id, s := range histSeries(acc, measurement) {
		out[id] = s.count
	}
	return out
}

// counterSeries collects a counter field by tags.
func counterSeries(t *testing.T, acc *testutil.Accumulator, measurement, field string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != measurement {
			continue
		}
		v, ok := m.GetField(field)
		if !ok {
			continue
		}
		require.Equal(t, telegraf.Counter, m.Type(), "%s is a counter", measurement)
		out[tagString(m.Tags())] = v.(uint64)
	}
	return out
}

// tagString renders tags canonically: "k=v,k=v" sorted by key.
func tagString(tags map[string]string) string {
	m := testutil.MustMetric("x", tags, map[string]any{"v": 1}, time.Time{})
	s := ""
	for _, tag := range m.TagList() {
		if s != "" {
			s += ","
		}
		s += tag.Key + "=" + tag.Value
	}
	return s
}
