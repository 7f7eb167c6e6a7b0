package syscall

import (
	"testing"

	"github.com/influxdata/telegraf/filter"
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
		{"bad glob", func(c *Config) { c.Comms = []string{"pg[wal"} },
			`comms: bad glob "pg[wal": unexpected end of input`},
		{"empty comm", func(c *Config) { c.Comms = []string{""} }, `comms: empty pattern`},
		{"long comm", func(c *Config) { c.Comms = []string{"postgres-walwriter"} },
			`comms: "postgres-walwriter" is longer than a task comm (15 characters): it never matches`},
		{"long prefix", func(c *Config) { c.Comms = []string{"postgres-walwriter*"} },
			`comms: "postgres-walwriter*": prefix longer than a task comm (15 characters): it never matches`},
		{"long glob", func(c *Config) { c.Comms = []string{"postgres*walwriter"} },
			`comms: "postgres*walwriter" needs at least 17 characters, but a task comm has at most 15: it never matches`},
		{"long glob with classes and alternatives", func(c *Config) { c.Comms = []string{"[pq]g_{walwriter,checkpointer}_xy?*"} },
			`comms: "[pq]g_{walwriter,checkpointer}_xy?*" needs at least 16 characters, but a task comm has at most 15: it never matches`},
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

// The shortest comm each glob matches, by telegraf's own matcher.
func TestMinMatchLen(t *testing.T) {
	for p, shortest := range map[string]string{
		"pg_*_wal":           "pg__wal",
		"db[12]":             "db1",
		"*":                  "",
		"a?c*":               "abc",
		`x\*y*`:              "x*y",
		"{ab,c}d*":           "cd",
		"[pq]g_{wal,ckpt}?*": "pg_walx",
	} {
		f, err := filter.Compile([]string{p})
		require.NoError(t, err)
		require.True(t, f.Match(shortest), "%q matches %q", p, shortest)
		require.Equal(t, len(shortest), minMatchLen(p), "pattern %q", p)
		if len(shortest) > 0 {
			require.False(t, f.Match(shortest[:len(shortest)-1]), "%q matches nothing shorter than %q", p, shortest)
		}
	}
}

func TestParseCommsSplitsByKernelMatch(t *testing.T) {
	cp, err := parseComms([]string{"postgres", "ora_lgwr_*", "pg_*_wal", "db[12]", "x{a,b}", "*"})
	require.NoError(t, err)
	require.Equal(t, []string{"postgres", "x{a,b}"}, cp.exact, "no *?[: a plain name, braces included")
	require.Equal(t, []string{"ora_lgwr_", ""}, cp.prefixes)
	require.Len(t, cp.general, 2)
	require.True(t, cp.needVerdicts())

	cp, err = parseComms([]string{"postgres", "ora_lgwr_*", "pg_*_wal", "db[12]", "kworker/*"})
	require.NoError(t, err)
	for comm, want := range map[string]bool{
		"postgres": true, "postgres2": false, "ora_lgwr_orcl": true, "ora_lgw": false,
		"pg_x_wal": true, "pg_x_wal2": false, "db1": true, "db3": false, "kworker/0:1": true,
	} {
		require.Equal(t, want, cp.match(comm), comm)
	}
	require.True(t, cp.trieMatches("ora_lgwr_x"))
	require.False(t, cp.trieMatches("db1"), "a general glob needs a verdict")
	require.Equal(t, verdictInclude, cp.verdict("db1"))
	require.Equal(t, verdictExclude, cp.verdict("db3"))

	only, err := parseComms([]string{"a", "b*"})
	require.NoError(t, err)
	require.False(t, only.needVerdicts())
}

func TestCommRoundTrip(t *testing.T) {
	require.Equal(t, "ebpfl-fsyncer", commString(commBytes("ebpfl-fsyncer")))
	require.Equal(t, "0123456789abcde", commString(commBytes("0123456789abcdef")), "15 characters kept")
	require.Equal(t, "", commString(commBytes("")))
}

func TestEditDistance(t *testing.T) {
	require.Equal(t, 0, editDistance("fsync", "fsync"))
	require.Equal(t, 1, editDistance("fdatsync", "fdatasync"))
	require.Equal(t, 2, editDistance("sendmgs", "sendmsg"))
	require.Equal(t, 5, editDistance("", "fsync"))
}
