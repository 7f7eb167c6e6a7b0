package ebpf_latency

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExpireIdleSeriesKey(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  time.Duration
	}{{"", 15 * time.Minute}, {`expire_idle_series = "0s"`, 0}, {`expire_idle_series = "90s"`, 90 * time.Second}} {
		e, err := Parse([]byte("[[inputs.ebpf_latency]]\nprobes = [\"runq\"]\n" + tt.value + "\n"))
		require.NoError(t, err, tt.value)
		require.Equal(t, tt.want, e.expireIdle, tt.value)
	}
	for _, bad := range []string{`"soon"`, `"-1m"`} {
		_, err := Parse([]byte("[[inputs.ebpf_latency]]\nprobes = [\"runq\"]\nexpire_idle_series = " + bad + "\n"))
		require.EqualError(t, err, "inputs.ebpf_latency.expire_idle_series: bad duration "+bad+` (want e.g. "15m", or "0s" for never)`)
	}
}

func TestUnchangedSeriesEveryKey(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  time.Duration
	}{{"", 0}, {`unchanged_series_every = "0s"`, 0}, {`unchanged_series_every = "45s"`, 45 * time.Second}} {
		e, err := Parse([]byte("[[inputs.ebpf_latency]]\nprobes = [\"runq\"]\n" + tt.value + "\n"))
		require.NoError(t, err, tt.value)
		require.Equal(t, tt.want, e.hist.UnchangedEvery, tt.value)
		require.Equal(t, tt.want, e.histogramsOf(e.Configs["runq"]).UnchangedEvery, "reaches the probes")
	}
	for _, bad := range []string{`"often"`, `"-45s"`} {
		_, err := Parse([]byte("[[inputs.ebpf_latency]]\nprobes = [\"runq\"]\nunchanged_series_every = " + bad + "\n"))
		require.EqualError(t, err, "inputs.ebpf_latency.unchanged_series_every: bad duration "+bad+` (want e.g. "45s", or "0s" for every gather)`)
	}
}
