package ebpf_latency

import (
	"strings"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
)

// A probe table that sets keys while its probe is not listed is ignored:
// say so, naming it. The sample config's empty tables stay quiet.
func TestUnlistedProbeTableWarns(t *testing.T) {
	config := sampleConfig + `
  [inputs.ebpf_latency.runq]
    max_comms = 8
`
	config = strings.Replace(config, "  [inputs.ebpf_latency.runq]\n", "", 1) // the sample's empty one
	e, err := Parse([]byte(config))
	require.NoError(t, err)
	log := &testutil.CaptureLogger{}
	e.Log = log
	require.NoError(t, e.Init())
	require.Equal(t, []string{
		`W! [] inputs.ebpf_latency.runq: ignored: no probe using it ("runq") is listed in inputs.ebpf_latency.probes`,
	}, log.Warnings())

	e, err = Parse([]byte(sampleConfig))
	require.NoError(t, err)
	log = &testutil.CaptureLogger{}
	e.Log = log
	require.NoError(t, e.Init())
	require.Empty(t, log.Warnings(), "the sample config's commented-out tables")
}

// A config up to the size limit parses; one byte more is refused.
func TestConfigSizeLimit(t *testing.T) {
	padded := sampleConfig + strings.Repeat("#", MaxConfigBytes-len(sampleConfig))
	require.Len(t, padded, MaxConfigBytes)
	_, err := Parse([]byte(padded))
	require.NoError(t, err)
	_, err = Parse([]byte(padded + "#"))
	require.ErrorContains(t, err, "config larger than 1024 KiB")
}

// Brackets inside strings and comments do not count as nesting.
func TestNestingIgnoresStringsAndComments(t *testing.T) {
	deep := strings.Repeat("[", 40)
	config := "# " + deep + "\n[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  [inputs.ebpf_latency.disk]\n" +
		"    devices = [\"" + deep + "\", '" + deep + "', \"\"\"\n" + deep + "\"\"\"] # " + deep + "\n"
	_, err := Parse([]byte(config))
	require.ErrorContains(t, err, "bad glob") // got past the nesting check to the glob parser
	require.NotContains(t, err.Error(), "nested")
}
