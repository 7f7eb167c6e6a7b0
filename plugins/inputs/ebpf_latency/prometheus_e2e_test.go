//go:build linux

package ebpf_latency_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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

	bin := filepath.Join(dir, "telegraf-ebpf-latency")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/telegraf-ebpf-latency").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	exe, err := filepath.EvalSymlinks(bin)
	require.NoError(t, err)

	const n = 12
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	pluginConf := filepath.Join(dir, "telegraf-ebpf-latency.conf")
	require.NoError(t, os.WriteFile(pluginConf, []byte(fmt.Sprintf(
		"[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  [inputs.ebpf_latency.disk]\n    devices = [%q]\n",
		dev.Name)), 0o600))

	exporter := freePort(t)
	conf := string(deriveConfig(t, bin, pluginConf, filepath.Join(dir, "metrics.out")))
	conf += fmt.Sprintf("\n[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 2\n", exporter)
	telegrafConf := filepath.Join(dir, "telegraf.conf")
	require.NoError(t, os.WriteFile(telegrafConf, []byte(conf), 0o600))
	tg := startTelegraf(t, telegraf, telegrafConf, filepath.Join(dir, "telegraf.log"))
	t.Cleanup(func() { killLeftovers(t, exe) })

	api := startPrometheus(t, prometheus, dir, exporter)
	// The I/O must wait until the probe is attached, or it goes unseen.
	waitOutput(t, tg, filepath.Join(dir, "metrics.out"), startTimeout, func(points []point) (bool, string) {
		for _, p := range slices.Backward(points) {
			if p.name == "ebpf_latency_probe" && p.tags["probe"] == "disk" {
				return p.fields["up"] == "1i", p.raw
			}
		}
		return false, "no ebpf_latency_probe line"
	})
	testenv.IssueDirect(t, dev.Path, true, n, 0)

	series := fmt.Sprintf(`device=%q,op="write",stage="service"`, dev.Name)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "metrics.out"))
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "op=write,stage=service") && !strings.Contains(line, "le=") {
					t.Log(line)
				}
			}
		}
	})
	count := waitQuery(t, api, fmt.Sprintf("ebpf_disk_latency_seconds_count{%s}", series), func(v float64) bool { return v == n })
	require.Equal(t, float64(n), count)

	median := waitQuery(t, api, fmt.Sprintf("histogram_quantile(0.5, sum by (le) (ebpf_disk_latency_seconds_bucket{%s}))", series),
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

	tg.stop(t)
}

// requireOutput checks the telegraf binary was built with an output plugin.
func requireOutput(t *testing.T, telegraf, output string) {
	t.Helper()
	out, err := exec.Command(telegraf, "plugins", "outputs").Output()
	require.NoError(t, err)
	require.Contains(t, strings.Fields(string(out)), output,
		"%s lacks %s: build it with that tag (make telegraf does)", telegraf, output)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd := exec.Command(prometheus, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logFile.Name())
			t.Logf("prometheus output:\n%s", out)
		}
	})
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// query evaluates an instant PromQL query with one result and returns its value.
func query(t *testing.T, api, q string) float64 {
	t.Helper()
	v, err := tryQuery(api, q)
	require.NoError(t, err, "query %s", q)
	return v
}

// waitQuery repeats q until ok holds for its value (30 s at most).
func waitQuery(t *testing.T, api, q string, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := tryQuery(api, q)
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s: last value %v, error %v", q, v, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
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
