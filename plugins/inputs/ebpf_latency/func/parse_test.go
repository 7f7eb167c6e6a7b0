package funcprobe_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	funcprobe "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/func"
)

// Through the plugin's own parser: an array of tables decodes in order, and
// errors carry the whole key path.
func TestParse(t *testing.T) {
	const head = "[[inputs.ebpf_latency]]\n  probes = [\"func\"]\n"
	good := head + `
  [[inputs.ebpf_latency.functions]]
    binary = "/bin/sh"
    symbol = "main"
  [[inputs.ebpf_latency.functions]]
    binary = "/bin/sh"
    symbol = "main"
    pid = 42
    name = "sh_main_42"
`
	e, err := ebpf_latency.Parse([]byte(good))
	require.NoError(t, err)
	cfg := *e.Configs[funcprobe.Table].(*funcprobe.Config)
	require.Equal(t, funcprobe.Config{
		{Binary: "/bin/sh", Symbol: "main"},
		{Binary: "/bin/sh", Symbol: "main", PID: 42, Name: "sh_main_42"},
	}, cfg)

	for _, tt := range []struct{ name, conf, err string }{
		{"relative binary", head + `
  [[inputs.ebpf_latency.functions]]
    binary = "/bin/sh"
    symbol = "main"
  [[inputs.ebpf_latency.functions]]
    binary = "sh"
    symbol = "main"
`, `inputs.ebpf_latency.functions[1].binary: "sh" is not an absolute path`},
		{"no table", head, `inputs.ebpf_latency.functions[]: no functions configured (add [[inputs.ebpf_latency.functions]] tables with binary and symbol)`},
		{"unknown key", head + `
  [[inputs.ebpf_latency.functions]]
    binary = "/bin/sh"
    symbl = "main"
`, `inputs.ebpf_latency.functions[0].symbl: unknown key`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ebpf_latency.Parse([]byte(tt.conf))
			require.EqualError(t, err, tt.err)
		})
	}
}
