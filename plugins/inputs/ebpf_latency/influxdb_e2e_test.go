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
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// TestInfluxDBEndToEnd is the push side of the story: the plugin under a real
// telegraf writing to a real InfluxDB, and InfluxQL on what was stored. Writes
// that each take 20 ms (a FUSE file that sleeps, under a loop device) must be
// counted exactly, all in the (16.384 ms, 32.768 ms] bucket, with an interval
// max that holds the 20 ms.
func TestInfluxDBEndToEnd(t *testing.T) {
	testenv.RequirePrivileged(t)
	telegraf := findTelegraf(t)
	requireOutput(t, telegraf, "outputs.influxdb")
	influxd := findCommand(t, "influxd", "apt-get install influxdb")
	dir := t.TempDir()

	bin := filepath.Join(dir, "telegraf-ebpf-latency")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/telegraf-ebpf-latency").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	exe, err := filepath.EvalSymlinks(bin)
	require.NoError(t, err)

	const n = 9
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	pluginConf := filepath.Join(dir, "telegraf-ebpf-latency.conf")
	require.NoError(t, os.WriteFile(pluginConf, []byte(fmt.Sprintf(
		"[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  [inputs.ebpf_latency.disk]\n    devices = [%q]\n",
		dev.Name)), 0o600))

	api := startInfluxDB(t, influxd, dir)
	output := filepath.Join(dir, "metrics.out")
	conf := string(deriveConfig(t, bin, pluginConf, output))
	conf += fmt.Sprintf("\n[[outputs.influxdb]]\n  urls = [%q]\n  database = \"telegraf\"\n", api)
	telegrafConf := filepath.Join(dir, "telegraf.conf")
	require.NoError(t, os.WriteFile(telegrafConf, []byte(conf), 0o600))
	tg := startTelegraf(t, telegraf, telegrafConf, filepath.Join(dir, "telegraf.log"))
	t.Cleanup(func() { killLeftovers(t, exe) })

	waitOutput(t, tg, output, startTimeout, func(points []point) (bool, string) {
		for _, p := range slices.Backward(points) {
			if p.name == "ebpf_latency_probe" && p.tags["probe"] == "disk" {
				return p.fields["up"] == "1i", p.raw
			}
		}
		return false, "no ebpf_latency_probe line"
	})
	testenv.IssueDirect(t, dev.Path, true, n, 0)

	where := fmt.Sprintf(`"device" = '%s' AND "op" = 'write' AND "stage" = 'service'`, dev.Name)
	last := func(field, extra string) string {
		return fmt.Sprintf(`SELECT last(%q) FROM "ebpf_disk_latency" WHERE %s%s`, field, where, extra)
	}
	require.Equal(t, float64(n), waitInflux(t, api, last("seconds_count", ` AND "le" = ''`), func(v float64) bool { return v == n }))
	require.Equal(t, float64(n), influx(t, api, last("seconds_bucket", ` AND "le" = '0.032768'`)), "all in (16.384 ms, 32.768 ms]")
	require.Equal(t, 0.0, influx(t, api, last("seconds_bucket", ` AND "le" = '0.016384'`)), "none at or below 16.384 ms")
	max := influx(t, api, fmt.Sprintf(`SELECT max("seconds_max") FROM "ebpf_disk_latency" WHERE %s`, where))
	require.GreaterOrEqual(t, max, 0.020, "every interval reaches InfluxDB, the one with the writes too")
	require.LessOrEqual(t, max, 0.032768)

	tg.stop(t)
}

// findCommand finds a program on PATH; without it the test skips, or fails
// under EBPF_LATENCY_REQUIRE_PRIVILEGED=1.
func findCommand(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("no %s on PATH (%s)", name, install)
	if os.Getenv(testenv.RequirePrivilegedEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startInfluxDB runs an InfluxDB 1.x on loopback with its data in dir and
// returns its HTTP URL once it answers; it is stopped by PID at test end.
func startInfluxDB(t *testing.T, influxd, dir string) string {
	t.Helper()
	httpPort, rpcPort := freePort(t), freePort(t)
	data := filepath.Join(dir, "influxdb")
	conf := filepath.Join(dir, "influxdb.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = "%s/meta"
[data]
  dir = "%s/data"
  wal-dir = "%s/wal"
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
`, rpcPort, data, data, data, httpPort)), 0o600))
	logFile, err := os.Create(filepath.Join(dir, "influxd.log"))
	require.NoError(t, err)
	cmd := exec.Command(influxd, "-config", conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logFile.Name())
			t.Logf("influxd output:\n%s", out)
		}
	})
	api := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	require.Eventually(t, func() bool {
		resp, err := http.Get(api + "/ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNoContent
	}, 20*time.Second, 100*time.Millisecond, "influxd did not answer /ping")
	return api
}

func influx(t *testing.T, api, q string) float64 {
	t.Helper()
	v, err := tryInflux(api, q)
	require.NoError(t, err, "query %s", q)
	return v
}

// waitInflux repeats q until ok holds for its value (30 s at most).
func waitInflux(t *testing.T, api, q string, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := tryInflux(api, q)
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s: last value %v, error %v", q, v, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// tryInflux runs an InfluxQL query returning one value.
func tryInflux(api, q string) (float64, error) {
	resp, err := http.Get(api + "/query?db=telegraf&q=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var r struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("%v: %s", err, body)
	}
	if len(r.Results) != 1 || r.Results[0].Error != "" || len(r.Results[0].Series) != 1 ||
		len(r.Results[0].Series[0].Values) != 1 || len(r.Results[0].Series[0].Values[0]) != 2 {
		return 0, fmt.Errorf("want one value: %s", body)
	}
	v, ok := r.Results[0].Series[0].Values[0][1].(float64)
	if !ok {
		return 0, fmt.Errorf("not a number: %s", body)
	}
	return v, nil
}
