package ebpf_latency_test

import (
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	ebpflatency "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A probe that cannot start is reported and the others keep running.
func TestFailingProbeLeavesOthersRunning(t *testing.T) {
	testenv.RequirePrivileged(t)
	// /bin/true is a real ELF, so the config is valid; the symbol is not in
	// it, so func fails at Start, after disk has attached.
	plugin, err := ebpflatency.Parse([]byte(`
[[inputs.ebpf_latency]]
  probes = ["disk", "func"]
  [[inputs.ebpf_latency.functions]]
    binary = "/bin/true"
    symbol = "no_such_function_here"
`))
	require.NoError(t, err)
	plugin.Log = testutil.Logger{}
	var acc testutil.Accumulator
	require.NoError(t, plugin.Start(&acc), "one probe up is enough to run")
	defer plugin.Stop()

	require.NoError(t, plugin.Gather(&acc))
	up := map[string]int64{}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != ebpflatency.SelfMeasurement {
			continue
		}
		v, _ := m.GetField("up")
		up[m.Tags()["probe"]] = v.(int64)
		if m.Tags()["probe"] == "func" {
			require.Equal(t, "none", m.Tags()["hook"])
			msg, ok := m.GetField("error")
			require.True(t, ok, "the reason travels with the metric")
			require.Contains(t, msg, "no_such_function_here")
		}
	}
	require.Equal(t, map[string]int64{"disk": 1, "func": 0}, up)
}

// When no probe can start, Start fails and says why for each.
func TestNoProbeStartsIsAnError(t *testing.T) {
	testenv.RequirePrivileged(t)
	plugin, err := ebpflatency.Parse([]byte(`
[[inputs.ebpf_latency]]
  probes = ["func"]
  [[inputs.ebpf_latency.functions]]
    binary = "/bin/true"
    symbol = "no_such_function_here"
`))
	require.NoError(t, err)
	plugin.Log = testutil.Logger{}
	err = plugin.Start(&testutil.Accumulator{})
	require.ErrorContains(t, err, "no probe could start: func: ")
	require.ErrorContains(t, err, "no_such_function_here")
}
