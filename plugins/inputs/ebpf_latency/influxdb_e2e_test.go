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

	const n = 9
	dev := testenv.NewLoopDevice(t, testenv.NewDelayedFile(t, 16<<20, 20*time.Millisecond))
	api := startInfluxDB(t, influxd, dir)
	st := startStack(t, telegraf, dev.Name, fmt.Sprintf("\n[[outputs.influxdb]]\n  urls = [%q]\n  database = \"telegraf\"\n", api))
	testenv.IssueDirect(t, dev.Path, true, n, 0)

	where := fmt.Sprintf(`"device" = '%s' AND "op" = 'write' AND "stage" = 'service'`, dev.Name)
	last := func(field, extra string) string {
		return fmt.Sprintf(`SELECT last(%q) FROM "ebpf_disk_latency" WHERE %s%s`, field, where, extra)
	}
	require.Equal(t, float64(n), waitValue(t, "InfluxQL count", func() (float64, error) { return tryInflux(api, last("seconds_count", ` AND "le" = ''`)) }, func(v float64) bool { return v == n }))
	require.Equal(t, float64(n), influx(t, api, last("seconds_bucket", ` AND "le" = '`+testenv.Ceiling+`'`)), "all under the loose ceiling")
	require.Equal(t, 0.0, influx(t, api, last("seconds_bucket", ` AND "le" = '0.016384'`)), "none at or below 16.384 ms")
	max := influx(t, api, fmt.Sprintf(`SELECT max("seconds_max") FROM "ebpf_disk_latency" WHERE %s`, where))
	require.GreaterOrEqual(t, max, 0.020, "every interval reaches InfluxDB, the one with the writes too")
	require.LessOrEqual(t, max, testenv.CeilingSeconds, "wall clock bounds only from below")

	st.tg.stop(t)
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
	startService(t, dir, "influxd", exec.Command(influxd, "-config", conf))
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
