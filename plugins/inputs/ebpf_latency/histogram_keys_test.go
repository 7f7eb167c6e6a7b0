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
