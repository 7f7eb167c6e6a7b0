//go:build linux

package ebpf_latency_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// unchanged_series_every as documented for Prometheus: set below
// prometheus_client's expiration_interval minus two gather intervals, an
// idle series is written only every few gathers, yet it never leaves
// Prometheus, and the count, quantile and rate queries read what they read
// with every series written every gather.
func TestUnchangedSeriesEveryWithPrometheus(t *testing.T) {
	testenv.RequirePrivileged(t)
	telegraf := findTelegraf(t)
	requireOutput(t, telegraf, "outputs.prometheus_client")
	prometheus := findCommand(t, "prometheus", "apt-get install prometheus")
	dir := t.TempDir()

	const n = 12
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	exporter := freePort(t)
	st := startStackWith(t, telegraf, func(dir string) string {
		path := filepath.Join(dir, "telegraf-ebpf-latency.conf")
		conf := fmt.Sprintf("[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  unchanged_series_every = \"4s\"\n"+
			"  [inputs.ebpf_latency.disk]\n    devices = [%q]\n", dev.Name)
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
		return path
	}, fmt.Sprintf("\n[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 2\n  expiration_interval = \"7s\"\n", exporter))
	api := startPrometheus(t, prometheus, dir, exporter)
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
