package runq

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateNamesKeyAndValue(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"globs", func(c *Config) { c.Comms = []string{"nginx*", "db[0-9]"} }, ""},
		{"raw_tp", func(c *Config) { c.Hook = "raw_tp" }, ""},
		{"bad glob", func(c *Config) { c.Comms = []string{"ok", "db[0-9"} }, `comms: bad glob "db[0-9": unclosed [`},
		{"max_comms zero", func(c *Config) { c.MaxComms = 0 }, "max_comms: 0 out of range (want 1 to 4096)"},
		{"max_comms huge", func(c *Config) { c.MaxComms = 5000 }, "max_comms: 5000 out of range (want 1 to 4096)"},
		{"hook unknown", func(c *Config) { c.Hook = "kprobe" }, `hook: unknown hook "kprobe" (want "auto", "tp_btf" or "raw_tp")`},
		{"start_times hash", func(c *Config) { c.StartTimes = "hash" }, ""},
		{"start_times unknown", func(c *Config) { c.StartTimes = "lru" }, `start_times: unknown value "lru" (want "auto", "kernel", "task_storage" or "hash")`},
		{"start_times kernel", func(c *Config) { c.StartTimes = "kernel" }, ""},
		{"start_times kernel, tp_btf", func(c *Config) { c.StartTimes, c.Hook = "kernel", "tp_btf" }, ""},
		{"start_times kernel, raw_tp", func(c *Config) { c.StartTimes, c.Hook = "kernel", "raw_tp" }, `start_times: "kernel" needs hook "tp_btf" or "auto", not "raw_tp"`},
		{"hook not offered", func(c *Config) { c.Hook = "tracepoint" }, `hook: unknown hook "tracepoint" (want "auto", "tp_btf" or "raw_tp")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(c)
			err := c.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
		})
	}
}
