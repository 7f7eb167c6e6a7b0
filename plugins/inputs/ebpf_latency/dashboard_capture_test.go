//go:build linux

package ebpf_latency_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// With EBPF_LATENCY_HEATMAP_CAPTURE=<dir>, the dashboards' end-to-end test
// also saves what some heatmap panels show (per time step and bucket) as
// JSON, for the pictures in docs/heatmaps.md (dashboards/render draws them).
const captureEnv = "EBPF_LATENCY_HEATMAP_CAPTURE"

// heatmapCapture is one heatmap panel's cells.
type heatmapCapture struct {
	Title   string      `json:"title"`
	Query   string      `json:"query"`
	Step    float64     `json:"step_seconds"`
	Bounds  []string    `json:"le"`     // ascending
	Samples [][]float64 `json:"counts"` // [bucket][step]
}

// capturedPanels: which panel, in which dc, with which variables changed.
var capturedPanels = []struct {
	file, title, dc string
	set             map[string]string
}{
	{"dc1-disk-service", "Disk I/O latency in $dc", primaryDC, nil},
	{"dc1-disk-queue", "Disk I/O latency in $dc", primaryDC, map[string]string{"stage": "queue"}},
	{"chain-primary-disk", "Disk writes of the primary ($primary_host in $primary_dc)", "", nil},
	{"chain-rtt", "RTT from the primary to the standby ($standby_peer)", "", nil},
	{"chain-standby-disk", "Disk writes of the standby ($standby_host in $standby_dc)", "", nil},
}

// captureHeatmaps saves the panels' cells: run is the panel's query as
// Grafana runs it, cells turns its result into le -> per-step counts.
func captureHeatmaps(t *testing.T, backend string, d grafanaDashboard, values map[string][]string, multi map[string]bool,
	escape func(string) string, run func(string) ([]resultSeries, error), cells func([]resultSeries) map[string][]float64) {
	t.Helper()
	dir := os.Getenv(captureEnv)
	if dir == "" {
		return
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, c := range capturedPanels {
		p := findPanel(t, d, c.title)
		v, m := maps2(values, multi)
		if c.dc != "" {
			v["dc"], m["dc"] = []string{c.dc}, false
		}
		for k, x := range c.set {
			v[k] = []string{x}
		}
		q := substitute(t, p.Targets[0].Expr+p.Targets[0].Query, v, m, escape)
		got, err := run(q)
		require.NoError(t, err, q)
		byLe := cells(got)
		capture := heatmapCapture{Title: substitute(t, c.title, v, m, escape), Query: q, Step: time.Second.Seconds()}
		for le := range byLe {
			capture.Bounds = append(capture.Bounds, le)
		}
		sort.Slice(capture.Bounds, func(i, j int) bool { return leValue(capture.Bounds[i]) < leValue(capture.Bounds[j]) })
		for _, le := range capture.Bounds {
			capture.Samples = append(capture.Samples, byLe[le])
		}
		data, err := json.Marshal(capture)
		require.NoError(t, err)
		path := filepath.Join(dir, backend+"-"+c.file+".json")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		t.Logf("captured %s", path)
	}
}

// startConsole runs the plugin's -console on the primary's two disks
// (service time, log2x4 buckets) while the capture scenario runs; stop ends
// it with SIGINT and leaves its output in dir/console.txt.
func startConsole(t *testing.T, bin string, w *dashboardWorkload, dir string) (stop func()) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "console.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`[[inputs.ebpf_latency]]
  probes = ["disk"]
  buckets = "log2x4"
  [inputs.ebpf_latency.disk]
    devices = [%q, %q]
    stages = ["service"]
`, w.primary.Name, w.second.Name)), 0o600))
	out, err := os.Create(filepath.Join(dir, "console.txt"))
	require.NoError(t, err)
	cmd := exec.Command(bin, "-console", "-poll_interval", "1s", "-config", conf)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(2 * time.Second) // the probe attaches
	return func() {
		defer out.Close()
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		select {
		case err := <-done:
			require.NoError(t, err, "-console exit")
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatal("-console still running 10 s after SIGINT")
		}
	}
}

func leValue(le string) float64 {
	if le == "+Inf" {
		return math.Inf(1)
	}
	f, _ := strconv.ParseFloat(le, 64)
	return f
}

// promCells de-cumulates each step of a heatmap-format result, as Grafana
// does: a bucket's cell is its count minus the count of the bucket below.
func promCells(series []resultSeries) map[string][]float64 {
	sort.Slice(series, func(i, j int) bool { return leValue(series[i].labels["le"]) < leValue(series[j].labels["le"]) })
	out := map[string][]float64{}
	var below []float64
	for _, s := range series {
		cells := make([]float64, len(s.values))
		for i, v := range s.values {
			cells[i] = v
			if i < len(below) {
				cells[i] -= below[i]
			}
		}
		out[s.labels["le"]], below = cells, s.values
	}
	return out
}

// influxCells: interval buckets are per-bucket counts already.
func influxCells(series []resultSeries) map[string][]float64 {
	out := map[string][]float64{}
	for _, s := range series {
		out[s.labels["le"]] = s.values
	}
	return out
}
