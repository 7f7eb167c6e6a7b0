package ebpf_latency

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The slow-event keys decode in a probe's table, and a bad value is one line
// naming the key and the value.
func TestSlowEventKeys(t *testing.T) {
	const head = "[[inputs.ebpf_latency]]\nprobes = [\"disk\"]\n[inputs.ebpf_latency.disk]\n"
	_, err := parse([]byte(head + "slow_threshold = \"50ms\"\nslow_events_per_second = 7\n"))
	require.NoError(t, err)
	requireOneLineErrors(t, head, map[string]string{
		`slow_threshold = "fast"`:     `inputs.ebpf_latency.disk.slow_threshold: "fast" is not a duration`,
		`slow_events_per_second = -1`: `inputs.ebpf_latency.disk.slow_events_per_second: -1 is out of range`,
		`slow_threshold = "-1s"`:      `inputs.ebpf_latency.disk.slow_threshold: "-1s" must be positive`,
		`slow_treshold = "1s"`:        `inputs.ebpf_latency.disk.slow_treshold: unknown key`,
	})
}

// requireOneLineErrors parses head + each body: the error, one line,
// contains the text given for it.
func requireOneLineErrors(t *testing.T, head string, cases map[string]string) {
	t.Helper()
	for body, want := range cases {
		_, err := parse([]byte(head + body + "\n"))
		require.ErrorContains(t, err, want, body)
		require.NotContains(t, err.Error(), "\n", body)
	}
}
