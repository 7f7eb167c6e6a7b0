package ebpf_latency_test

import (
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	ebpflatency "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// The self-metric says which runq flavour runs: the hook, and where the
// enqueue times come from (both tp_btf flavours share the hook); a probe
// without that choice carries no start_times tag.
func TestSelfMetricNamesRunqStartTimes(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, startTimes := range []string{"kernel", "task_storage", "hash"} {
		t.Run(startTimes, func(t *testing.T) {
			plugin, err := ebpflatency.Parse([]byte(`
[[inputs.ebpf_latency]]
  probes = ["runq", "tcp_retransmits"]
  [inputs.ebpf_latency.runq]
    hook = "tp_btf"
    start_times = "` + startTimes + `"
`))
			require.NoError(t, err)
			plugin.Log = testutil.Logger{}
			var acc testutil.Accumulator
			require.NoError(t, plugin.Start(&acc))
			defer plugin.Stop()
			require.NoError(t, plugin.Gather(&acc))
			tags := map[string]map[string]string{}
			for _, m := range acc.GetTelegrafMetrics() {
				if m.Name() == ebpflatency.SelfMeasurement {
					tags[m.Tags()["probe"]] = m.Tags()
				}
			}
			require.Equal(t, map[string]string{"probe": "runq", "hook": "tp_btf", "start_times": startTimes}, tags["runq"])
			require.Equal(t, map[string]string{"probe": "tcp_retransmits", "hook": "tp_btf"}, tags["tcp_retransmits"])
		})
	}
}
