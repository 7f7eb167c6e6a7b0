//go:build linux

package ebpf_latency_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// TestPrometheusEndToEnd follows the metrics all the way: the plugin under a
// real telegraf (telegraf.conf.example plus outputs.prometheus_client), a real
// Prometheus scraping it, and PromQL on the result. Writes through a loop
// device over a FUSE file that sleeps 20 ms per I/O must come back as a
// count of exactly N and a median in the bucket holding 20 ms, which proves
// the names, the le label and the cumulative buckets fit histogram_quantile.
func TestPrometheusEndToEnd(t *testing.T) {
	ps := newPrometheusSetup(t)
	telegraf, prometheus, dir, dev, exporter := ps.telegraf, ps.prometheus, ps.dir, ps.dev, ps.exporter
	const n = 12
	// TCP for the README's sample queries: refused connects to a closed
	// local port, and an upload across a line that loses packets.
	closed := freePort(t)
	line := testenv.NewDelayLine(t, 0)
	server := discardServer(t, line)
	st := startStack(t, telegraf, dev.Name,
		fmt.Sprintf("\n[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 2\n", exporter),
		closed, server)
	api := startPrometheus(t, prometheus, dir, exporter)
	testenv.IssueDirect(t, dev.Path, true, n, 0)

	series := fmt.Sprintf(`device=%q,op="write",stage="service"`, dev.Name)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := os.ReadFile(st.output)
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "op=write,stage=service") && !strings.Contains(line, "le=") {
					t.Log(line)
				}
			}
		}
	})
	count := waitPromQL(t, api, fmt.Sprintf("ebpf_disk_latency_seconds_count{%s}", series), func(v float64) bool { return v == n })
	require.Equal(t, float64(n), count)

	median := waitPromQL(t, api, fmt.Sprintf("histogram_quantile(0.5, sum by (le) (ebpf_disk_latency_seconds_bucket{%s}))", series),
		func(v float64) bool { return v > 0 })
	require.Greater(t, median, 0.016384, "median write, PromQL over the scraped buckets")
	require.LessOrEqual(t, median, testenv.CeilingSeconds, "median write: wall clock bounds only from below")

	buckets := query(t, api, fmt.Sprintf("count(ebpf_disk_latency_seconds_bucket{%s})", series))
	require.Equal(t, 32.0, buckets, "every bound, +Inf included")
	// seconds_max is an interval gauge: non-zero for the one telegraf interval
	// that saw the writes, which a scrape may or may not catch. Its series
	// must be there; its value is checked on the file output by the other
	// end-to-end test.
	require.Equal(t, 1.0, query(t, api, fmt.Sprintf("count(ebpf_disk_latency_seconds_max{%s})", series)))
	require.Equal(t, float64(n), query(t, api, fmt.Sprintf(`ebpf_disk_latency_seconds_bucket{%s,le="+Inf"}`, series)))

	// The README's types: line protocol from inputs.execd carries none, so
	// Prometheus sees every field untyped ("unknown"), counters included.
	require.Equal(t, "unknown", metadataType(t, api, "ebpf_disk_latency_seconds_bucket"))
	require.Equal(t, "unknown", metadataType(t, api, "ebpf_disk_latency_seconds_count"))

	// The README's sample queries for the TCP counters and probe health.
	refuse := func(k int) {
		for range k {
			_, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", closed))
			require.Error(t, err, "port %d is closed", closed)
		}
	}
	refuse(1)
	waitPromQL(t, api, `ebpf_tcp_connect_failed{peer="127.0.0.1"}`, func(v float64) bool { return v == 1 })
	refuse(2) // a second scraped value, so that rate() has an increase
	waitPromQL(t, api, `ebpf_tcp_connect_failed{peer="127.0.0.1"}`, func(v float64) bool { return v == 3 })
	require.Positive(t, query(t, api, `sum by (peer) (rate(ebpf_tcp_connect_failed{peer="127.0.0.1"}[5m]))`))
	require.Equal(t, "unknown", metadataType(t, api, "ebpf_tcp_connect_failed"))

	peer := fmt.Sprintf(`peer=%q`, line.B4.String())
	var retransmitted uint32
	for range 2 { // two scraped values, so that rate() has an increase
		retransmitted += lossyUpload(t, line, server)
		want := float64(retransmitted)
		waitPromQL(t, api, fmt.Sprintf("ebpf_tcp_retransmits_segments{%s}", peer), func(v float64) bool { return v == want })
	}
	t.Logf("%d segments retransmitted", retransmitted)
	require.Positive(t, query(t, api, fmt.Sprintf("sum by (peer) (rate(ebpf_tcp_retransmits_segments{%s}[5m]))", peer)))
	require.Equal(t, "unknown", metadataType(t, api, "ebpf_tcp_retransmits_segments"))

	require.Equal(t, 3.0, query(t, api, "count(ebpf_latency_probe_up == 1)"), "disk, tcp_connect, tcp_retransmits up")
	require.Zero(t, resultCount(t, api, "ebpf_latency_probe_up == 0"), "the alert query finds no probe down")

	st.tg.stop(t)
}

// prometheusSetup is what the Prometheus end-to-end tests start from: a
// telegraf with prometheus_client, a prometheus, a scratch directory, a
// loop device over a file that sleeps 20 ms per I/O, and a free port for
// the exporter.
type prometheusSetup struct {
	telegraf, prometheus, dir string
	dev                       *testenv.LoopDevice
	exporter                  int
}

func newPrometheusSetup(t *testing.T) prometheusSetup {
	testenv.RequirePrivileged(t)
	ps := prometheusSetup{telegraf: findTelegraf(t)}
	requireOutput(t, ps.telegraf, "outputs.prometheus_client")
	ps.prometheus = findCommand(t, "prometheus", "apt-get install prometheus")
	ps.dir = t.TempDir()
	ps.dev = testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	ps.exporter = freePort(t)
	return ps
}

// discardServer listens on line's B end and reads every connection to EOF;
// it returns the port.
func discardServer(t *testing.T, line *testenv.DelayLine) int {
	return testenv.Serve(t, line.B, "tcp4", net.JoinHostPort(line.B4.String(), "0"), func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	})
}

// lossyUpload sends 256 KiB from line's A end to port on B while five data
// packets are lost, and returns the segments A's kernel counted as
// retransmitted (tcpi_total_retrans) once every segment is acknowledged.
func lossyUpload(t *testing.T, line *testenv.DelayLine, port int) uint32 {
	t.Helper()
	var c net.Conn
	var err error
	line.A.Run(t, func() { c, err = net.Dial("tcp4", net.JoinHostPort(line.B4.String(), strconv.Itoa(port))) })
	require.NoError(t, err)
	defer c.Close()
	line.DropAToB(5)
	_, err = c.Write(make([]byte, 256<<10))
	require.NoError(t, err)
	raw, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var info *unix.TCPInfo
	require.Eventually(t, func() bool {
		require.NoError(t, raw.Control(func(fd uintptr) {
			info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		}))
		require.NoError(t, err)
		return info.Unacked == 0
	}, 10*time.Second, 5*time.Millisecond, "segments still unacknowledged")
	require.Positive(t, info.Total_retrans, "lost packets are retransmitted")
	return info.Total_retrans
}

// metadataType is the type Prometheus recorded for metric from its scrapes
// ("unknown" for an untyped one).
func metadataType(t *testing.T, api, metric string) string {
	t.Helper()
	var r struct {
		Data map[string][]struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	require.NoError(t, getJSON(api+"/api/v1/metadata?metric="+url.QueryEscape(metric), &r))
	require.NotEmpty(t, r.Data[metric], "metadata for %s", metric)
	return r.Data[metric][0].Type
}

// resultCount is the number of series an instant query returns.
func resultCount(t *testing.T, api, q string) int {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, getJSON(api+"/api/v1/query?query="+url.QueryEscape(q), &r))
	require.Equal(t, "success", r.Status, "query %s", q)
	return len(r.Data.Result)
}

// requireOutput checks the telegraf binary was built with an output plugin.
func requireOutput(t *testing.T, telegraf, output string) {
	t.Helper()
	out, err := exec.Command(telegraf, "plugins", "outputs").Output()
	require.NoError(t, err)
	require.Contains(t, strings.Fields(string(out)), output,
		"%s lacks %s: build it with that tag (make telegraf does)", telegraf, output)
}

// startPrometheus runs Prometheus scraping 127.0.0.1:target every second and
// returns its API base URL; it is killed by PID when the test ends.
func startPrometheus(t *testing.T, prometheus, dir string, target int) string {
	t.Helper()
	port := freePort(t)
	conf := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"global:\n  scrape_interval: 500ms\nscrape_configs:\n  - job_name: telegraf\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
		target)), 0o600))
	startService(t, dir, "prometheus", exec.Command(prometheus, "--config.file="+conf,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)))
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// waitPromQL repeats q until ok holds for its value.
func waitPromQL(t *testing.T, api, q string, ok func(float64) bool) float64 {
	t.Helper()
	return waitValue(t, "query "+q, func() (float64, error) { return tryQuery(api, q) }, ok)
}

// query evaluates an instant PromQL query with one result and returns its value.
func query(t *testing.T, api, q string) float64 {
	t.Helper()
	v, err := tryQuery(api, q)
	require.NoError(t, err, "query %s", q)
	return v
}

func tryQuery(api, q string) (float64, error) {
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(api+"/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
		return 0, err
	}
	if r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("want one result: %+v", r)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// unchanged_series_every as documented for Prometheus: set below
// prometheus_client's expiration_interval minus two gather intervals, an
// idle series is written only every few gathers, yet it never leaves
// Prometheus, and the count, quantile and rate queries read what they read
// with every series written every gather.
func TestUnchangedSeriesEveryWithPrometheus(t *testing.T) {
	ps := newPrometheusSetup(t)
	const n = 12
	st := startStackWith(t, ps.telegraf, func(dir string) string {
		path := dir + "/telegraf-ebpf-latency.conf"
		conf := fmt.Sprintf("[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  unchanged_series_every = \"4s\"\n"+
			"  [inputs.ebpf_latency.disk]\n    devices = [%q]\n", ps.dev.Name)
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
		return path
	}, fmt.Sprintf("\n[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 2\n  expiration_interval = \"7s\"\n", ps.exporter))
	api := startPrometheus(t, ps.prometheus, ps.dir, ps.exporter)
	dev := ps.dev
	testenv.IssueDirect(t, dev.Path, true, n, 0)

	series := fmt.Sprintf(`device=%q,op="write",stage="service"`, dev.Name)
	countQuery := fmt.Sprintf("ebpf_disk_latency_seconds_count{%s}", series)
	require.Equal(t, float64(n), waitPromQL(t, api, countQuery, func(v float64) bool { return v == n }))

	// Idle for twice the expiration interval: written every 4 s, not every
	// second, and still there.
	idleFrom := time.Now()
	time.Sleep(14 * time.Second)
	require.Equal(t, float64(n), query(t, api, countQuery), "the idle series did not expire")
	require.Equal(t, 32.0, query(t, api, fmt.Sprintf("count(ebpf_disk_latency_seconds_bucket{%s})", series)))
	written := summaryLinesSince(t, st.output, dev.Name, idleFrom)
	require.GreaterOrEqual(t, written, 2, "rewritten while idle")
	require.LessOrEqual(t, written, 5, "about every 4 s over 14 s, not every second")

	// New samples are written at the next gather: the dashboards' rate and
	// quantile-of-increase queries see them.
	testenv.IssueDirect(t, dev.Path, true, n, 0)
	require.Equal(t, float64(2*n), waitPromQL(t, api, countQuery, func(v float64) bool { return v == 2*n }))
	require.Positive(t, query(t, api, fmt.Sprintf("rate(ebpf_disk_latency_seconds_count{%s}[1m])", series)))
	median := query(t, api, fmt.Sprintf("histogram_quantile(0.5, sum by (le) (increase(ebpf_disk_latency_seconds_bucket{%s}[1m])))", series))
	require.Greater(t, median, 0.016384, "median write from the increase of the scraped buckets")
	require.LessOrEqual(t, median, testenv.CeilingSeconds)
	st.tg.stop(t)
}

// summaryLinesSince counts the write/service summary lines of device the
// file output got with a timestamp after since.
func summaryLinesSince(t *testing.T, output, device string, since time.Time) int {
	t.Helper()
	data, err := os.ReadFile(output)
	require.NoError(t, err)
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "ebpf_disk_latency,") || !strings.Contains(line, ",device="+device+",") ||
			!strings.Contains(line, ",op=write,stage=service ") || strings.Contains(line, ",le=") { // global tags (dc, host) sort among them
			continue
		}
		var ts int64
		_, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &ts)
		require.NoError(t, err, line)
		if time.Unix(0, ts).After(since) {
			n++
		}
	}
	return n
}
