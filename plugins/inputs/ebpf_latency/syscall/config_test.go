package syscall

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if len(syscallNumbers) == 0 {
		t.Skip("no syscall table for this GOARCH")
	}
	require.NoError(t, DefaultConfig().Validate())
}

func TestValidateNamesKeyAndValue(t *testing.T) {
	if len(syscallNumbers) == 0 {
		t.Skip("no syscall table for this GOARCH")
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"typo", func(c *Config) { c.Syscalls = []string{"fdatsync"} },
			`syscalls: unknown syscall "fdatsync" (did you mean "fdatasync"?)`},
		{"transposed", func(c *Config) { c.Syscalls = []string{"io_uring_etner"} },
			`syscalls: unknown syscall "io_uring_etner" (did you mean "io_uring_enter"?)`},
		{"nothing close", func(c *Config) { c.Syscalls = []string{"frobnicate_everything"} },
			`syscalls: unknown syscall "frobnicate_everything"`},
		{"empty syscalls", func(c *Config) { c.Syscalls = nil }, `syscalls: empty list`},
		{"twice", func(c *Config) { c.Syscalls = []string{"fsync", "fdatasync", "fsync"} },
			`syscalls: "fsync" listed twice`},
		{"never returns", func(c *Config) { c.Syscalls = []string{"fsync", "exit_group"} },
			`syscalls: "exit_group" never returns: it has no latency`},
		// The comms errors are commglob's, word for word the runq probe's.
		{"bad glob", func(c *Config) { c.Comms = []string{"pg[wal"} },
			`comms: bad glob "pg[wal": unclosed [`},
		{"empty comm", func(c *Config) { c.Comms = []string{""} }, `comms: bad glob "": empty pattern`},
		{"unclosed brace", func(c *Config) { c.Comms = []string{"pg_{wal,ckpt"} },
			`comms: bad glob "pg_{wal,ckpt": unclosed {`},
		{"long comm", func(c *Config) { c.Comms = []string{"postgres-walwriter"} },
			`comms: bad glob "postgres-walwriter": needs at least 18 characters, but a task comm has at most 15: it never matches`},
		{"long prefix", func(c *Config) { c.Comms = []string{"postgres-walwriter*"} },
			`comms: bad glob "postgres-walwriter*": needs at least 18 characters, but a task comm has at most 15: it never matches`},
		{"long glob", func(c *Config) { c.Comms = []string{"postgres*walwriter"} },
			`comms: bad glob "postgres*walwriter": needs at least 17 characters, but a task comm has at most 15: it never matches`},
		{"too many tokens", func(c *Config) {
			c.Comms = []string{"postgre?", "pg_walwrite?", "pg_checkpointe?", "pg_autovacuu?", "pg_statistic*"}
		},
			"comms: too many pattern tokens at \"pg_statistic*\": the globs up to it need 66 states (one per character, `?`, class or star, plus one each; exact names take none), the kernel's matcher has 64"},
		{"pid", func(c *Config) { c.Pids = []int{12, -3} }, `pids: -3 is not a process ID (want 1 to 4194304)`},
		{"max_comms", func(c *Config) { c.MaxComms = 0 }, `max_comms: 0 out of range (want 1 to 4096)`},
		{"start_times", func(c *Config) { c.StartTimes = "lru" },
			`start_times: unknown value "lru" (want "auto", "task_storage" or "hash")`},
		{"max_cgroups", func(c *Config) { c.MaxCgroups = -1 }, `max_cgroups: -1 out of range (want 1 to 4096)`},
		{"hook", func(c *Config) { c.Hook = "tracepoint" },
			`hook: unknown hook "tracepoint" (want "auto", "tp_btf" or "raw_tp")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(c)
			require.EqualError(t, c.Validate(), tt.want)
		})
	}
}

func TestCommString(t *testing.T) {
	require.Equal(t, "ebpfl-fsyncer", commString([commLen]int8{'e', 'b', 'p', 'f', 'l', '-', 'f', 's', 'y', 'n', 'c', 'e', 'r'}))
	require.Equal(t, "", commString([commLen]int8{}))
}

func TestEditDistance(t *testing.T) {
	require.Equal(t, 0, editDistance("fsync", "fsync"))
	require.Equal(t, 1, editDistance("fdatsync", "fdatasync"))
	require.Equal(t, 2, editDistance("sendmgs", "sendmsg"))
	require.Equal(t, 5, editDistance("", "fsync"))
}
