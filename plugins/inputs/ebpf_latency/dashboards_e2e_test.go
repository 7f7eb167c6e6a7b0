//go:build linux

package ebpf_latency_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// How telegraf.conf.example names the data center (the test's first one).
const exampleDC = `dc = "dc1"`

// Writes per disk in the measured burst (after one write each that makes
// the series exist): distinct, so that a mix-up shows.
var burst = diskWrites{primary: 12, second: 5, standby: 7}

// TestDashboardsEndToEnd proves every query of both committed dashboards:
// two data centers (telegraf inputs tagged dc) feed every probe through a
// real telegraf into a real Prometheus (cumulative buckets) and a real
// InfluxDB (bucket_counts = "interval"); each variable query must list what
// the workload made, each panel query (once per data center where the panel
// repeats) must return data, and the heatmaps must put what was injected
// where it belongs, with the exact count: 20 ms, 70 ms and 9 ms disk writes
// and 20 ms function calls in the buckets holding them, every fdatasync,
// and the delay line's round trips and handshakes in the bucket holding
// 10 ms (handshakes counted exactly); the p99
// and max lines of disks, functions and round trips in those buckets too.
func TestDashboardsEndToEnd(t *testing.T) {
	testenv.RequirePrivileged(t)
	telegraf := findTelegraf(t)
	requireOutput(t, telegraf, "outputs.prometheus_client")
	requireOutput(t, telegraf, "outputs.influxdb")
	prometheus := findCommand(t, "prometheus", "apt-get install prometheus")
	influxd := findCommand(t, "influxd", "apt-get install influxdb")
	hostname, err := os.Hostname() // telegraf's host tag
	require.NoError(t, err)
	dir := t.TempDir()

	w := newDashboardWorkload(t)
	bin, exe := buildPlugin(t, dir)
	t.Cleanup(func() { killLeftovers(t, exe) })
	influxAPI := startInfluxDB(t, influxd, dir)
	exporter := freePort(t)
	promTG := startDataCenters(t, telegraf, bin, filepath.Join(dir, "prometheus"), "cumulative", w,
		fmt.Sprintf("\n[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 2\n", exporter))
	influxTG := startDataCenters(t, telegraf, bin, filepath.Join(dir, "influxdb"), "interval", w,
		fmt.Sprintf("\n[[outputs.influxdb]]\n  urls = [%q]\n  database = \"telegraf\"\n", influxAPI))
	promAPI := startPrometheus(t, prometheus, dir, exporter)
	start := time.Now()

	// One round makes every series exist, so that the second one is seen
	// as an increase (Prometheus counts from a series' first sample).
	w.round(t, diskWrites{1, 1, 1}, 0)
	written := func(dev *testenv.LoopDevice) string {
		return fmt.Sprintf(`ebpf_disk_latency_seconds_count{device=%q,op="write",stage="service"}`, dev.Name)
	}
	for _, dev := range []*testenv.LoopDevice{w.primary, w.second, w.standby} {
		waitPromQL(t, promAPI, written(dev), func(v float64) bool { return v == 1 })
	}
	burstStart := time.Now()
	w.round(t, burst, 1)
	for dev, n := range map[*testenv.LoopDevice]int{w.primary: burst.primary, w.second: burst.second, w.standby: burst.standby} {
		waitPromQL(t, promAPI, written(dev), func(v float64) bool { return v == float64(1+n) })
		q := fmt.Sprintf(`SELECT sum("interval_count") FROM "ebpf_disk_latency" WHERE "device" = '%s' AND "op" = 'write' AND "stage" = 'service'`, dev.Name)
		waitValue(t, "InfluxQL "+q, func() (float64, error) { return tryInflux(influxAPI, q) }, func(v float64) bool { return v == float64(1+n) })
	}
	// One more interval, so that every rate window holds the last change.
	time.Sleep(2 * time.Second)
	end := time.Now()
	t.Logf("workload done %v after start", end.Sub(start).Round(time.Millisecond))

	chosen := map[string]string{"op": "write", "stage": "service", "primary_dc": primaryDC, "standby_dc": standbyDC,
		"primary_host": hostname, "standby_host": hostname, "standby_peer": standbyPeer}
	// What the All of each multi-value variable must list.
	listed := map[string][]string{"dc": {primaryDC, standbyDC}, "host": {hostname},
		"device": {w.primary.Name, w.second.Name, w.standby.Name}, "peer": {primaryPeer, standbyPeer},
		"syscall": {timedSyscall}, "function": {functionSymbol}}

	backends := []dashboardBackend{{
		name: "prometheus", escape: promRegexValue, cells: promCells,
		list: func(q string, start, end time.Time) ([]string, error) { return promLabelValues(promAPI, q, start, end) },
		timing: func(values map[string][]string, _, _ time.Time) {
			values["__rate_interval"] = []string{"4s"} // at least Grafana's (4 scrape intervals), and 4 gathers
		},
		run: func(q string, start, end time.Time) ([]resultSeries, error) {
			return promRange(promAPI, q, start, end, time.Second)
		},
		requireHeatmaps: func(t *testing.T, d grafanaDashboard, values map[string][]string, multi map[string]bool) {
			requirePromHeatmaps(t, d, values, multi, promAPI, written(w.primary), burstStart, end)
		},
	}, {
		name: "influxdb", escape: influxRegexValue, cells: influxCells,
		list: func(q string, _, _ time.Time) ([]string, error) { return influxTagValues(influxAPI, q) },
		timing: func(values map[string][]string, start, end time.Time) {
			values["timeFilter"] = []string{fmt.Sprintf("time >= %dms AND time <= %dms", start.UnixMilli(), end.UnixMilli())}
			values["__interval"] = []string{"1s"}
		},
		run: func(q string, _, _ time.Time) ([]resultSeries, error) { return influxSeries(influxAPI, q) },
		requireHeatmaps: func(t *testing.T, d grafanaDashboard, values map[string][]string, multi map[string]bool) {
			requireInfluxHeatmaps(t, d, values, multi, func(q string) ([]resultSeries, error) { return influxSeries(influxAPI, q) })
		},
	}}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			d, values, multi, run := b.open(t, chosen, listed, start, end)
			runPanels(t, d, values, multi, b.escape, run)
			requireQuantiles(t, d, values, multi, b.escape, run, w)
			b.requireHeatmaps(t, d, values, multi)
		})
	}
	if dir := os.Getenv(captureEnv); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		stopConsole := startConsole(t, bin, w, dir)
		captureStart := time.Now()
		w.captureScenario(t)
		stopConsole()
		time.Sleep(3 * time.Second) // the last intervals reach both backends
		captureEnd := time.Now()
		for _, b := range backends {
			d, values, multi, run := b.open(t, chosen, listed, captureStart, captureEnd)
			captureHeatmaps(t, b.name, d, values, multi, b.escape, run, b.cells)
		}
	}
	promTG.stop(t)
	influxTG.stop(t)
}

// dashboardBackend is how the test talks to one backend for its dashboard.
type dashboardBackend struct {
	name   string
	escape func(string) string // a value inside a multi-value regex
	list   func(q string, start, end time.Time) ([]string, error)
	// timing sets Grafana's time-range variables.
	timing          func(values map[string][]string, start, end time.Time)
	run             func(q string, start, end time.Time) ([]resultSeries, error)
	cells           func([]resultSeries) map[string][]float64
	requireHeatmaps func(t *testing.T, d grafanaDashboard, values map[string][]string, multi map[string]bool)
}

// open reads the backend's dashboard and resolves its variables over
// [start, end], as Grafana does when the dashboard loads.
func (b dashboardBackend) open(t *testing.T, chosen map[string]string, listed map[string][]string, start, end time.Time) (
	grafanaDashboard, map[string][]string, map[string]bool, func(string) ([]resultSeries, error)) {
	t.Helper()
	d := readDashboard(t, b.name+".json")
	values, multi := resolveVariables(t, d, chosen, listed, func(q string) ([]string, error) { return b.list(q, start, end) }, b.escape)
	b.timing(values, start, end)
	return d, values, multi, func(q string) ([]resultSeries, error) { return b.run(q, start, end) }
}

// resolveVariables runs every variable query in order, as Grafana does
// when the dashboard loads: a multi-value variable takes All (every value
// listed, which must be exactly listed[name]), a single one the chosen
// value, which must be among those listed.
func resolveVariables(t *testing.T, d grafanaDashboard, chosen map[string]string, listed map[string][]string,
	run func(string) ([]string, error), escape func(string) string) (map[string][]string, map[string]bool) {
	t.Helper()
	values, multi := map[string][]string{}, map[string]bool{}
	for _, v := range d.queryVariables(t) {
		q := substitute(t, v.Query.(string), values, multi, escape)
		got, err := run(q)
		require.NoError(t, err, "variable %s: %s", v.Name, q)
		require.NotEmpty(t, got, "variable %s lists nothing: %s", v.Name, q)
		if v.Multi {
			require.True(t, v.IncludeAll, "variable %s: multi-value without All", v.Name)
			want, ok := listed[v.Name]
			require.True(t, ok, "the test knows no values for variable %s", v.Name)
			require.ElementsMatch(t, want, got, "variable %s: %s", v.Name, q)
			values[v.Name], multi[v.Name] = got, true
			continue
		}
		want, ok := chosen[v.Name]
		require.True(t, ok, "the test chooses no value for variable %s", v.Name)
		require.Contains(t, got, want, "variable %s: %s", v.Name, q)
		values[v.Name] = []string{want}
	}
	return values, multi
}

// perDC calls fn once for a panel, or once per data center when it repeats
// per dc, with $dc holding that data center alone.
func perDC(t *testing.T, p grafanaPanel, values map[string][]string, multi map[string]bool,
	fn func(dc string, values map[string][]string, multi map[string]bool)) {
	t.Helper()
	if p.Repeat == "" {
		fn("", values, multi)
		return
	}
	require.Equal(t, "dc", p.Repeat, "panel %q", p.Title)
	for _, dc := range values["dc"] {
		v, m := maps2(values, multi)
		v["dc"], m["dc"] = []string{dc}, false
		fn(dc, v, m)
	}
}

func maps2(values map[string][]string, multi map[string]bool) (map[string][]string, map[string]bool) {
	v, m := map[string][]string{}, map[string]bool{}
	for k, x := range values {
		v[k] = x
	}
	for k, x := range multi {
		m[k] = x
	}
	return v, m
}

// runPanels runs every query of every panel and requires data: some
// series with a finite, non-zero value.
func runPanels(t *testing.T, d grafanaDashboard, values map[string][]string, multi map[string]bool,
	escape func(string) string, run func(string) ([]resultSeries, error)) {
	t.Helper()
	queries := 0
	for _, p := range d.queryPanels() {
		perDC(t, p, values, multi, func(dc string, values map[string][]string, multi map[string]bool) {
			for _, target := range p.Targets {
				text := target.Expr + target.Query
				q := substitute(t, text, values, multi, escape)
				got, err := run(q)
				require.NoError(t, err, "panel %q %s (dc %s): %s", p.Title, target.RefID, dc, q)
				points := 0
				for _, s := range got {
					points += s.nonZero()
				}
				require.Positive(t, points, "panel %q %s (dc %s) shows nothing: %s", p.Title, target.RefID, dc, q)
				queries++
			}
		})
	}
	t.Logf("%d panel queries returned data", queries)
}

// heatmapCheck is a heatmap panel, the dc it shows, and where the samples
// of the measured burst must be: le -> the exact count (0: some samples,
// count unknown), every other bucket empty; or, with le "*", only the
// total (latency not injected). first is what the first round added.
type heatmapCheck struct {
	title        string
	dc           string // "" for a panel that does not repeat
	burst, first map[string]int
	// atLeast: the burst's one le is only a lower bound (round trips: the
	// delay line's plus scheduling, which a loaded machine stretches), so
	// samples there or above, none below.
	atLeast bool
}

func heatmapChecks() []heatmapCheck {
	primary := map[string]int{"0.032768": burst.primary, "0.131072": burst.second}
	standby := map[string]int{"0.016384": burst.standby}
	oneEach := map[string]int{"0.032768": 1, "0.131072": 1, "0.016384": 1}
	calls := map[string]int{"0.032768": functionCalls}
	syncs := map[string]int{"*": syncCalls}
	// One connection a round, measured at both ends (both on this machine):
	// the client's SYN to established, the server's SYN-ACK to ACK.
	connects := map[string]int{"0.016384": 2}
	return []heatmapCheck{
		{"Disk I/O latency in $dc", primaryDC, primary, oneEach, false},
		{"Disk I/O latency in $dc", standbyDC, standby, oneEach, false},
		{"Disk writes of the primary ($primary_host in $primary_dc)", "", primary, oneEach, false},
		{"Disk writes of the standby ($standby_host in $standby_dc)", "", standby, oneEach, false},
		{"RTT from the primary to the standby ($standby_peer)", "", map[string]int{"0.016384": 0}, nil, true},
		{"Function latency in $dc", primaryDC, calls, calls, false},
		{"Function latency in $dc", standbyDC, calls, calls, false},
		{"TCP connect latency in $dc", primaryDC, connects, connects, false},
		{"TCP connect latency in $dc", standbyDC, connects, connects, false},
		{"Syscall latency in $dc", primaryDC, syncs, syncs, false},
		{"Syscall latency in $dc", standbyDC, syncs, syncs, false},
	}
}

func findPanel(t *testing.T, d grafanaDashboard, title string) grafanaPanel {
	t.Helper()
	for _, p := range d.queryPanels() {
		if p.Title == title {
			require.Equal(t, "heatmap", p.Type, "panel %q", title)
			require.Len(t, p.Targets, 1, "panel %q", title)
			return p
		}
	}
	t.Fatalf("no panel %q", title)
	return grafanaPanel{}
}

// requireBuckets checks per-bucket counts (le -> samples) against a
// check, with the first round's samples added when withFirst.
func requireBuckets(t *testing.T, c heatmapCheck, buckets map[string]float64, withFirst bool) {
	t.Helper()
	t.Logf("%s %s: %v", c.title, c.dc, buckets)
	want := func(le string) float64 {
		n := c.burst[le]
		if withFirst {
			n += c.first[le]
		}
		return float64(n)
	}
	if _, ok := c.burst["*"]; ok {
		total := 0.0
		for _, n := range buckets {
			total += n
		}
		require.Equal(t, want("*"), total, "%s %s: samples in all buckets: %v", c.title, c.dc, buckets)
		return
	}
	if c.atLeast {
		requireAtOrAbove(t, c, buckets)
		return
	}
	for le, n := range buckets {
		if _, ok := c.burst[le]; !ok {
			require.Zero(t, n, "%s %s: samples in le=%s, want them in %v: %v", c.title, c.dc, le, c.burst, buckets)
		}
	}
	for le, n := range c.burst {
		if n == 0 {
			require.Positive(t, buckets[le], "%s: le=%s empty: %v", c.title, le, buckets)
			continue
		}
		require.Equal(t, want(le), buckets[le], "%s %s le=%s: %v", c.title, c.dc, le, buckets)
	}
}

// requirePromHeatmaps evaluates each checked heatmap query the way Grafana
// draws one cell: the increase of every cumulative bucket over a window,
// then each bucket minus the one below. The window runs exactly from the
// last scrape before the burst to the last scrape, so increase() needs no
// extrapolation (Prometheus 2.x selects [t-range, t], both ends included)
// and the bucket holding the delay must count exactly the burst.
func requirePromHeatmaps(t *testing.T, d grafanaDashboard, values map[string][]string, multi map[string]bool,
	api, written string, burstStart, end time.Time) {
	t.Helper()
	ts, counts, err := promSamples(api, written, end.Sub(burstStart)+time.Minute, end)
	require.NoError(t, err)
	var before, last time.Time
	for i := range ts {
		if ts[i].Before(burstStart) && counts[i] == 1 {
			before = ts[i]
		}
		last = ts[i]
	}
	require.False(t, before.IsZero(), "no scrape between the first round and the burst: %v %v", ts, counts)
	window := last.Sub(before)
	for _, c := range heatmapChecks() {
		p := findPanel(t, d, c.title)
		v, m := maps2(values, multi)
		if c.dc != "" {
			v["dc"], m["dc"] = []string{c.dc}, false
		}
		v["__rate_interval"] = []string{fmt.Sprintf("%dms", window.Milliseconds())}
		q := substitute(t, p.Targets[0].Expr, v, m, promRegexValue)
		got, err := promInstant(api, q, last)
		require.NoError(t, err, q)
		cumulative := map[string]float64{}
		for _, s := range got {
			cumulative[s.labels["le"]] = s.values[0]
		}
		requireBuckets(t, c, decumulate(t, cumulative), false)
	}
}

// requireAtOrAbove checks an atLeast heatmap: no sample in a bucket below
// its le, some at or above it.
func requireAtOrAbove(t *testing.T, c heatmapCheck, buckets map[string]float64) {
	t.Helper()
	require.Len(t, c.burst, 1, "%s: one lower bound", c.title)
	var floor string
	for le := range c.burst {
		floor = le
	}
	bound := func(le string) float64 { return leBound(t, le) }
	atOrAbove := 0.0
	for le, n := range buckets {
		if bound(le) < bound(floor) {
			require.Zero(t, n, "%s %s: samples in le=%s, below the delay's bucket le=%s: %v", c.title, c.dc, le, floor, buckets)
			continue
		}
		atOrAbove += n
	}
	require.Positive(t, atOrAbove, "%s %s: no sample at or above le=%s: %v", c.title, c.dc, floor, buckets)
}

// leBound is an le label's bound in seconds.
func leBound(t *testing.T, le string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(le, 64)
	require.NoError(t, err, "le %q", le)
	return f
}

// decumulate turns cumulative le buckets into per-bucket counts, as
// Grafana's heatmap format does.
func decumulate(t *testing.T, cumulative map[string]float64) map[string]float64 {
	t.Helper()
	les := make([]string, 0, len(cumulative))
	for le := range cumulative {
		les = append(les, le)
	}
	bound := func(le string) float64 { return leBound(t, le) }
	sort.Slice(les, func(i, j int) bool { return bound(les[i]) < bound(les[j]) })
	out, below := map[string]float64{}, 0.0
	for _, le := range les {
		out[le] = cumulative[le] - below
		below = cumulative[le]
	}
	return out
}

// requireInfluxHeatmaps sums each checked heatmap query's cells per le over
// the whole range: interval buckets add up, so the bucket holding the delay
// must hold exactly every write made (the first round's one included).
func requireInfluxHeatmaps(t *testing.T, d grafanaDashboard, values map[string][]string, multi map[string]bool,
	run func(string) ([]resultSeries, error)) {
	t.Helper()
	for _, c := range heatmapChecks() {
		p := findPanel(t, d, c.title)
		v, m := maps2(values, multi)
		if c.dc != "" {
			v["dc"], m["dc"] = []string{c.dc}, false
		}
		q := substitute(t, p.Targets[0].Query, v, m, influxRegexValue)
		got, err := run(q)
		require.NoError(t, err, q)
		buckets := map[string]float64{}
		for _, s := range got {
			for _, x := range s.values {
				if !math.IsNaN(x) {
					buckets[s.labels["le"]] += x
				}
			}
		}
		requireBuckets(t, c, buckets, true)
	}
}
