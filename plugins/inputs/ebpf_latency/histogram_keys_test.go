package ebpf_latency

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// Bad histogram keys get one line naming the key and the value; the binary
// turns any Parse error into that line and exit 1 (cmd's TestConfigErrors).
func TestHistogramKeyErrors(t *testing.T) {
	const head = "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n"
	tests := []struct {
		name, config, want string
	}{
		{"unknown bucket_counts", head + "  bucket_counts = \"delta\"\n",
			`inputs.ebpf_latency.bucket_counts: unknown value "delta" (want "cumulative" or "interval")`},
		{"bucket_counts wrong type", head + "  bucket_counts = 1\n",
			`inputs.ebpf_latency.bucket_counts: wrong type: 1 is an integer, want a string`},
		{"unknown scheme", head + "  buckets = \"log10\"\n",
			`inputs.ebpf_latency.buckets: unknown scheme "log10" (want "log2" or "log2x4")`},
		{"unknown scheme in a table", head + "  [inputs.ebpf_latency.disk]\n    buckets = \"linear\"\n",
			`inputs.ebpf_latency.disk.buckets: unknown scheme "linear" (want "log2" or "log2x4")`},
		{"quantile of 1", head + "  quantiles = [0.5, 1.0]\n",
			`inputs.ebpf_latency.quantiles: 1 is outside (0, 1)`},
		{"quantile of 0", head + "  quantiles = [0.0]\n",
			`inputs.ebpf_latency.quantiles: 0 is outside (0, 1)`},
		{"negative quantile", head + "  quantiles = [-0.5]\n",
			`inputs.ebpf_latency.quantiles: -0.5 is outside (0, 1)`},
		{"quantile as percent", head + "  quantiles = [99.0]\n",
			`inputs.ebpf_latency.quantiles: 99 is outside (0, 1)`},
		{"duplicate quantile", head + "  quantiles = [0.99, 0.5, 0.990]\n",
			`inputs.ebpf_latency.quantiles: 0.99 listed twice`},
		{"functions disagree", "[[inputs.ebpf_latency]]\n  probes = [\"func\"]\n" +
			"  [[inputs.ebpf_latency.functions]]\n    binary = \"/bin/true\"\n    symbol = \"a\"\n    buckets = \"log2x4\"\n" +
			"  [[inputs.ebpf_latency.functions]]\n    binary = \"/bin/true\"\n    symbol = \"b\"\n    buckets = \"log2\"\n",
			`inputs.ebpf_latency.functions[1].buckets: "log2", but an earlier function has "log2x4": every function of the probe has the same buckets`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.config))
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestHistogramKeysReachTheOptions(t *testing.T) {
	e, err := Parse([]byte("[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  bucket_counts = \"interval\"\n"))
	require.NoError(t, err)
	require.Equal(t, histogram.IntervalCounts, e.hist.Layout)

	e, err = Parse([]byte("[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n"))
	require.NoError(t, err)
	require.Equal(t, histogram.Cumulative, e.hist.Layout, "the default")
}

func TestQuantilesDefaultAndOff(t *testing.T) {
	e, err := Parse([]byte("[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n"))
	require.NoError(t, err)
	require.Equal(t, []float64{0.5, 0.9, 0.99, 0.999}, e.hist.Quantiles)
	require.Equal(t, histogram.Log2, e.hist.Scheme)

	e, err = Parse([]byte("[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  quantiles = []\n"))
	require.NoError(t, err)
	require.Empty(t, e.hist.Quantiles, "quantiles = [] turns them off")
}

// buckets set plugin-wide applies to every probe; a table's own overrides it.
func TestBucketsPerTable(t *testing.T) {
	e, err := Parse([]byte(`
[[inputs.ebpf_latency]]
  probes = ["disk", "syscall", "runq", "tcp_rtt"]
  buckets = "log2x4"
  [inputs.ebpf_latency.syscall]
    buckets = "log2"
`))
	require.NoError(t, err)
	require.Equal(t, histogram.Log2x4, e.histogramsOf(e.Configs["disk"]).Scheme)
	require.Equal(t, histogram.Log2x4, e.histogramsOf(e.Configs["tcp"]).Scheme)
	require.Equal(t, histogram.Log2x4, e.histogramsOf(e.Configs["runq"]).Scheme)
	require.Equal(t, histogram.Log2, e.histogramsOf(e.Configs["syscall"]).Scheme)
}
