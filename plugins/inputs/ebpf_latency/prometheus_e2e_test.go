//go:build linux

package ebpf_latency_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// TestPrometheusEndToEnd follows the metrics all the way: the plugin under a
// real telegraf (telegraf.conf.example plus outputs.prometheus_client), a real
// Prometheus scraping it, and PromQL on the result. Writes through a loop
// device over a FUSE file that sleeps 20 ms per I/O must come back as a
// count of exactly N and a median in the bucket holding 20 ms, which proves
// the names, the le label and the cumulative buckets fit histogram_quantile.
func TestPrometheusEndToEnd(t *testing.T) {
	testenv.RequirePrivileged(t)
	telegraf := findTelegraf(t)
	requireOutput(t, telegraf, "outputs.prometheus_client")
	prometheus := findCommand(t, "prometheus", "apt-get install prometheus")
	dir := t.TempDir()

	const n = 12
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	exporter := freePort(t)
	st := startStack(t, telegraf, dev.Name,
		fmt.Sprintf("\n[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 2\n", exporter))
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
	require.LessOrEqual(t, median, 0.032768, "median write, PromQL over the scraped buckets")

	buckets := query(t, api, fmt.Sprintf("count(ebpf_disk_latency_seconds_bucket{%s})", series))
	require.Equal(t, 32.0, buckets, "every bound, +Inf included")
	// seconds_max is an interval gauge: non-zero for the one telegraf interval
	// that saw the writes, which a scrape may or may not catch. Its series
	// must be there; its value is checked on the file output by the other
	// end-to-end test.
	require.Equal(t, 1.0, query(t, api, fmt.Sprintf("count(ebpf_disk_latency_seconds_max{%s})", series)))
	require.Equal(t, float64(n), query(t, api, fmt.Sprintf(`ebpf_disk_latency_seconds_bucket{%s,le="+Inf"}`, series)))

	st.tg.stop(t)
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
		"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: telegraf\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
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
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("%v: %s", err, body)
	}
	if r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("want one result: %s", body)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}
