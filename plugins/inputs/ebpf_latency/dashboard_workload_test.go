//go:build linux

package ebpf_latency_test

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// What the dashboards' end-to-end test feeds every probe with: two data
// centers on one machine, each its own plugin (telegraf input tagged dc)
// with its own disk, and the traffic between them through a delay line.

const (
	primaryDC, standbyDC = "dc1", "dc2"
	// Peer groups: what each data center calls the other.
	standbyPeer, primaryPeer = "dc2-standby", "dc1-primary"
	primaryDiskDelay         = 20 * time.Millisecond // (16.384, 32.768] ms
	secondDiskDelay          = 70 * time.Millisecond // (65.536, 131.072] ms
	standbyDiskDelay         = 9 * time.Millisecond  // (8.192, 16.384] ms
	oneWayDelay              = 5 * time.Millisecond  // RTT in (8.192, 16.384] ms
	functionSymbol           = "do_work"
	timedSyscall             = "fdatasync"
	// Each round calls do_work (a 20 ms sleep) and fdatasync this often.
	functionCalls, syncCalls = 3, 3
	functionSleepMs          = "20" // (16.384, 32.768] ms
)

var allProbes = []string{"disk", "tcp_rtt", "tcp_connect", "tcp_retransmits", "syscall", "func", "runq"}

type dashboardWorkload struct {
	// The primary's data center has a second, slower disk: its writes
	// are the second band of the data center's heatmap. Each delay sits
	// just above a power of two, leaving room for a busy machine's lag.
	primary, second, standby *testenv.LoopDevice
	line                     *testenv.DelayLine
	port, closed             int    // the echo server's port, and one nothing listens on
	worker                   string // func/testdata/worker.c, built
	syncFile                 string
}

func newDashboardWorkload(t *testing.T) *dashboardWorkload {
	t.Helper()
	w := &dashboardWorkload{
		primary: testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, primaryDiskDelay)),
		second:  testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, secondDiskDelay)),
		standby: testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, standbyDiskDelay)),
		line:    testenv.NewDelayLine(t, oneWayDelay),
	}
	w.port = echoServer(t, w.line.B)
	w.closed = w.port + 1
	if w.closed > 65535 {
		w.closed = w.port - 1
	}
	w.worker = buildWorker(t)
	w.syncFile = filepath.Join(t.TempDir(), "synced")
	require.NoError(t, os.WriteFile(w.syncFile, []byte("x"), 0o600))
	return w
}

// pluginConfig is the plugin config of one data center: every probe, its
// own disk, the delay line's subnet as the other data center's peer group.
func (w *dashboardWorkload) pluginConfig(dc, bucketCounts string) string {
	devices, group := quoteAll([]string{w.primary.Name, w.second.Name}), standbyPeer
	if dc == standbyDC {
		devices, group = quoteAll([]string{w.standby.Name}), primaryPeer
	}
	return fmt.Sprintf(`[[inputs.ebpf_latency]]
  probes = [%s]%s
  [inputs.ebpf_latency.disk]
    devices = [%s]
  [inputs.ebpf_latency.tcp]
    ports = [%d, %d]
    [[inputs.ebpf_latency.tcp.peer_groups]]
      name = %q
      cidrs = [%q]
  [inputs.ebpf_latency.syscall]
    syscalls = [%q]
    pids = [%d]
  [inputs.ebpf_latency.runq]
  [[inputs.ebpf_latency.functions]]
    binary = %q
    symbol = %q
`, quoteAll(allProbes), bucketCountsLine(bucketCounts), devices, w.port, w.closed, group, w.line.Subnet4(), timedSyscall, os.Getpid(), w.worker, functionSymbol)
}

// bucketCountsLine sets bucket_counts unless it is the default.
func bucketCountsLine(mode string) string {
	if mode == "cumulative" {
		return ""
	}
	return fmt.Sprintf("\n  bucket_counts = %q", mode)
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// diskWrites is how many writes a round makes on each disk.
type diskWrites struct{ primary, second, standby int }

// round feeds every probe: a connection with round trips and lost
// segments, a refused connect, fdatasyncs, timed function calls, and
// direct writes to each data center's disk.
func (w *dashboardWorkload) round(t *testing.T, n diskWrites, firstBlock int64) {
	t.Helper()
	c := dialFrom(t, w.line.A, w.line.B4, w.port)
	echoRoundTrips(t, c, 5)
	w.line.DropAToB(2)
	echoRoundTrips(t, c, 1) // the lost request is retransmitted
	require.NoError(t, c.Close())
	_, err := tryDialFrom(t, w.line.A, w.line.B4, w.closed)
	require.ErrorIs(t, err, unix.ECONNREFUSED)

	f, err := os.OpenFile(w.syncFile, os.O_RDWR, 0)
	require.NoError(t, err)
	for range syncCalls {
		require.NoError(t, unix.Fdatasync(int(f.Fd())))
	}
	require.NoError(t, f.Close())

	// worker work <count> <ms>: say ready, wait for a line, call do_work.
	cmd := exec.Command(w.worker, "work", strconv.Itoa(functionCalls), functionSleepMs)
	cmd.Stdin = strings.NewReader("go\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "worker: %s", out)

	testenv.IssueDirect(t, w.primary.Path, true, n.primary, firstBlock)
	testenv.IssueDirect(t, w.second.Path, true, n.second, firstBlock)
	testenv.IssueDirect(t, w.standby.Path, true, n.standby, firstBlock)
}

// buildWorker compiles the func probe's test workload (do_work sleeps).
func buildWorker(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "worker")
	out, err := exec.Command("gcc", "-O0", "-g", "-Wall", "-o", bin, "func/testdata/worker.c").CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return bin
}

const echoSize = 64

// echoServer answers every echoSize request in ns until the test ends.
func echoServer(t *testing.T, ns *testenv.Netns) int {
	t.Helper()
	var (
		ln  net.Listener
		err error
	)
	ns.Run(t, func() { ln, err = net.Listen("tcp", "0.0.0.0:0") })
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, echoSize)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func tryDialFrom(t *testing.T, ns *testenv.Netns, addr netip.Addr, port int) (net.Conn, error) {
	t.Helper()
	var (
		c   net.Conn
		err error
	)
	ns.Run(t, func() {
		c, err = net.DialTimeout("tcp", netip.AddrPortFrom(addr, uint16(port)).String(), 10*time.Second)
	})
	return c, err
}

func dialFrom(t *testing.T, ns *testenv.Netns, addr netip.Addr, port int) net.Conn {
	t.Helper()
	c, err := tryDialFrom(t, ns, addr, port)
	require.NoError(t, err)
	return c
}

func echoRoundTrips(t *testing.T, c net.Conn, n int) {
	t.Helper()
	buf := make([]byte, echoSize)
	for range n {
		_, err := c.Write(buf)
		require.NoError(t, err)
		_, err = io.ReadFull(c, buf)
		require.NoError(t, err)
	}
}

// dataCenters is telegraf running two plugins, one per data center: the
// first tagged by [global_tags] dc as telegraf.conf.example sets it, the
// second by its input's own tags (a second data center on one machine).
func startDataCenters(t *testing.T, telegraf, bin, dir, bucketCounts string, w *dashboardWorkload, outputs string) *telegrafProcess {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	confs := map[string]string{}
	for _, dc := range []string{primaryDC, standbyDC} {
		confs[dc] = filepath.Join(dir, dc+".conf")
		require.NoError(t, os.WriteFile(confs[dc], []byte(w.pluginConfig(dc, bucketCounts)), 0o600))
	}
	output := filepath.Join(dir, "metrics.out")
	conf := string(deriveConfig(t, bin, confs[primaryDC], output))
	require.Equal(t, 1, strings.Count(conf, exampleDC), "%s: want %s once", exampleConfig, exampleDC)
	conf += fmt.Sprintf(`
[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  signal = "STDIN"
  restart_delay = "10s"
  data_format = "influx"
  [inputs.execd.tags]
    dc = %q
`, bin, confs[standbyDC], standbyDC) + outputs
	telegrafConf := filepath.Join(dir, "telegraf.conf")
	require.NoError(t, os.WriteFile(telegrafConf, []byte(conf), 0o600))
	tg := startTelegraf(t, telegraf, telegrafConf, filepath.Join(dir, "telegraf.log"))
	waitOutput(t, tg, output, startTimeout, func(points []point) (bool, string) {
		up := map[string]string{}
		for _, p := range points {
			if p.name == "ebpf_latency_probe" {
				up[p.tags["dc"]+"/"+p.tags["probe"]] = p.fields["up"]
			}
		}
		var missing []string
		for _, dc := range []string{primaryDC, standbyDC} {
			for _, probe := range allProbes {
				if up[dc+"/"+probe] != "1i" {
					missing = append(missing, dc+"/"+probe)
				}
			}
		}
		slices.Sort(missing)
		return len(missing) == 0, fmt.Sprintf("probes not up: %v", missing)
	})
	return tg
}

// captureScenario is the longer run behind the pictures in
// docs/heatmaps.md: quiet rounds, then rounds where eight writers at once
// crowd the primary's slow disk, then quiet rounds again.
func (w *dashboardWorkload) captureScenario(t *testing.T) {
	t.Helper()
	for i := range 24 {
		w.round(t, diskWrites{primary: 4, second: 4, standby: 4}, int64(10+i*64))
		if i < 8 || i >= 16 {
			continue
		}
		// Eight dd processes at once (O_DIRECT, three 4 KiB writes each).
		var writers []*exec.Cmd
		for j := range 8 {
			dd := exec.Command("dd", "if=/dev/zero", "of="+w.primary.Path, "bs=4096", "count=3", "oflag=direct",
				"conv=notrunc", fmt.Sprintf("seek=%d", 2000+i*64+j*4), "status=none")
			require.NoError(t, dd.Start())
			writers = append(writers, dd)
		}
		for _, dd := range writers {
			require.NoError(t, dd.Wait(), "dd")
		}
	}
}
