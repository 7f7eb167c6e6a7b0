package ebpf_latency_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	ebpflatency "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// The plugin-wide bucket_counts reaches the running probes: with
// "interval", run-queue latency (context switches never stop) is written
// as interval buckets with both bounds, and never as seconds_bucket.
func TestBucketCountsReachesProbes(t *testing.T) {
	testenv.RequirePrivileged(t)
	acc := startAndGather(t, `
[[inputs.ebpf_latency]]
  probes = ["runq"]
  bucket_counts = "interval"
`)

	var buckets, summaries int
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != "ebpf_runq_latency" {
			continue
		}
		_, cumulative := m.GetField(histogram.FieldBucket)
		require.False(t, cumulative, "no seconds_bucket in interval mode")
		if _, ok := m.GetTag(histogram.TagBound); ok {
			_, hasGT := m.GetTag(histogram.TagLowerBound)
			require.True(t, hasGT)
			buckets++
			continue
		}
		_, ok := m.GetField(histogram.FieldIntervalCount)
		require.True(t, ok, "summary carries interval_count")
		summaries++
	}
	require.Equal(t, 1, summaries)
	require.Positive(t, buckets)
}

// Every probe's object passes the verifier with either scheme: all probes
// start (up=1) and write bounds of the scheme asked for.
func TestEveryProbeRunsBothSchemes(t *testing.T) {
	testenv.RequirePrivileged(t)
	libc := "/lib/x86_64-linux-gnu/libc.so.6"
	if _, err := os.Stat(libc); err != nil {
		libc = "/lib/aarch64-linux-gnu/libc.so.6"
	}
	for _, scheme := range []string{"log2", "log2x4"} {
		t.Run(scheme, func(t *testing.T) {
			before := lastMapID(t)
			acc := startAndGather(t, fmt.Sprintf(`
[[inputs.ebpf_latency]]
  probes = ["disk", "tcp_rtt", "tcp_connect", "syscall", "func", "runq"]
  buckets = %q
  [[inputs.ebpf_latency.functions]]
    binary = %q
    symbol = "fsync"
`, scheme, libc))

			want := histogram.Log2
			if scheme == "log2x4" {
				want = histogram.Log2x4
			}
			bounds := map[string]map[string]bool{} // measurement -> le seen
			for _, m := range acc.GetTelegrafMetrics() {
				if m.Name() == ebpflatency.SelfMeasurement {
					up, _ := m.GetField("up")
					require.Equal(t, int64(1), up, "probe %s: %v", m.Tags()["probe"], m.Fields()["error"])
					continue
				}
				if le, ok := m.GetTag(histogram.TagBound); ok {
					if bounds[m.Name()] == nil {
						bounds[m.Name()] = map[string]bool{}
					}
					bounds[m.Name()][le] = true
				}
			}
			require.NotEmpty(t, bounds["ebpf_runq_latency"], "context switches never stop")
			for name, les := range bounds {
				require.Len(t, les, want.Slots(), "%s writes the %s bounds", name, scheme)
				require.True(t, les[want.BoundLabel(1)], "%s: le=%s", name, want.BoundLabel(1))
			}
			requireHistValueSizes(t, before, scheme)
		})
	}
}

// histValueBytes is what a series costs per CPU in each probe's histogram
// map under each scheme: sum, max, stamp and min, then the scheme's 32 or
// 122 slots; disk's value holds its completions count and two stages.
var histValueBytes = map[string]map[string]uint32{
	"log2":   {"single": 8 * (4 + 32), "disk": 8 * (1 + 2*(4+32))},
	"log2x4": {"single": 8 * (4 + 122), "disk": 8 * (1 + 2*(4+122))},
}

// requireHistValueSizes finds the histogram maps the kernel created after
// map id before (kernel map names are cut to 15 characters) and checks the
// value size the kernel holds for each.
func requireHistValueSizes(t *testing.T, before ebpf.MapID, scheme string) {
	t.Helper()
	wantMaps := map[string]string{
		"disk_hists": "disk", "disk_rows": "disk", "syscall_hists": "single", "tcp_rtt_hists": "single",
		"tcp_connect_his": "single", "func_hists": "single", "runq_hists": "single",
	}
	seen := map[string]int{}
	for id := before; ; {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		require.NoError(t, err)
		id = next
		m, err := ebpf.NewMapFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // freed meanwhile
		}
		require.NoError(t, err)
		info, err := m.Info()
		m.Close()
		require.NoError(t, err)
		kind, ok := wantMaps[info.Name]
		if !ok {
			continue
		}
		seen[info.Name]++
		require.Equal(t, histValueBytes[scheme][kind], info.ValueSize, "map %s under %s", info.Name, scheme)
	}
	for name := range wantMaps {
		require.Equal(t, 1, seen[name], "one %s map loaded by this test", name)
	}
}

// lastMapID is the highest map id the kernel has handed out and not freed.
func lastMapID(t *testing.T) ebpf.MapID {
	var id ebpf.MapID
	for {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return id
		}
		require.NoError(t, err)
		id = next
	}
}

// startAndGather starts the plugin on config, for the test's duration, and
// gathers once after 100 ms.
func startAndGather(t *testing.T, config string) *testutil.Accumulator {
	t.Helper()
	plugin, err := ebpflatency.Parse([]byte(config))
	require.NoError(t, err)
	plugin.Log = testutil.Logger{}
	var acc testutil.Accumulator
	require.NoError(t, plugin.Start(&acc))
	t.Cleanup(plugin.Stop)
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, plugin.Gather(&acc))
	return &acc
}
