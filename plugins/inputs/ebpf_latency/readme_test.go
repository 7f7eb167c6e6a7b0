package ebpf_latency

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's config block is sample.conf itself (telegraf's
// `toml @sample.conf` convention): one source for the config text.
func TestReadmeShowsSampleConfig(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(readme), "```toml @sample.conf\n")
	require.True(t, ok, "README lacks a ```toml @sample.conf block")
	block, _, _ = strings.Cut(block, "```")
	require.Equal(t, sampleConfig, block, "copy sample.conf into the README block")
}

// The embedded default must parse and validate as shipped.
func TestSampleConfigParses(t *testing.T) {
	e, err := Parse([]byte(sampleConfig))
	require.NoError(t, err)
	require.NotEmpty(t, e.Probes)
}
