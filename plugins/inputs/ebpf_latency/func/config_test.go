package funcprobe

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	self, err := os.Executable() // the test binary: a Go program
	require.NoError(t, err)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("not a program\n"), 0o644))
	missing := filepath.Join(dir, "missing")
	const libc = "/bin/sh" // any C program on every test machine

	tests := []struct {
		name string
		cfg  Config
		err  string // "" means valid
	}{
		{"one function", Config{{Binary: libc, Symbol: "main"}}, ""},
		{"no functions", Config{}, `[]: no functions configured`},
		{"relative path", Config{{Binary: libc, Symbol: "a"}, {Binary: "bin/app", Symbol: "flush"}},
			`[1].binary: "bin/app" is not an absolute path`},
		{"missing binary key", Config{{Symbol: "flush"}}, `[0].binary: missing`},
		{"binary does not exist", Config{{Binary: missing, Symbol: "flush"}},
			`[0].binary: "` + missing + `": no such file or directory`},
		{"binary is a directory", Config{{Binary: dir, Symbol: "flush"}}, `[0].binary: "` + dir + `" is not a regular file`},
		{"binary is not ELF", Config{{Binary: text, Symbol: "flush"}},
			`[0].binary: "` + text + `": not an ELF executable or shared library`},
		{"empty symbol", Config{{Binary: libc}}, `[0].symbol: missing`},
		{"negative pid", Config{{Binary: libc, Symbol: "main", PID: -1}}, `[0].pid: -1 is negative`},
		{"duplicate", Config{{Binary: libc, Symbol: "main", PID: 3}, {Binary: libc, Symbol: "main", PID: 3, Name: "again"}},
			`[1]: binary "/bin/sh", symbol "main", pid 3: duplicate of [0]`},
		{"same function, two pids, one tag set", Config{{Binary: libc, Symbol: "main", PID: 3}, {Binary: libc, Symbol: "main", PID: 4}},
			`[1].name: binary "sh" and function "main" are already the tags of [0]; set a distinct name`},
		{"same function, two pids, named apart", Config{{Binary: libc, Symbol: "main", PID: 3}, {Binary: libc, Symbol: "main", PID: 4, Name: "main_4"}}, ""},
		{"Go binary refused", Config{{Binary: self, Symbol: "main.main"}},
			`[0].binary: "` + self + `" is a Go program: Go moves goroutine stacks`},
		{"Go binary accepted", Config{{Binary: self, Symbol: "main.main", GoBinaryOK: true}}, ""},
		{"start_times hash", Config{{Binary: libc, Symbol: "main", StartTimes: "hash"}, {Binary: libc, Symbol: "exit"}}, ""},
		{"start_times unknown", Config{{Binary: libc, Symbol: "main", StartTimes: "lru"}},
			`[0].start_times: unknown value "lru" (want "auto", "task_storage" or "hash")`},
		{"by_cgroup", Config{{Binary: libc, Symbol: "main", ByCgroup: true, Cgroups: []string{"/a"}, MaxCgroups: new(3)}, {Binary: libc, Symbol: "exit"}}, ""},
		{"cgroups without by_cgroup", Config{{Binary: libc, Symbol: "main", Cgroups: []string{"/a"}}},
			`[0].cgroups: ["/a"] needs by_cgroup = true`},
		{"max_cgroups out of range", Config{{Binary: libc, Symbol: "main", ByCgroup: true, MaxCgroups: new(-2)}},
			`[0].max_cgroups: -2 out of range (want 1 to 4096)`},
		{"max_cgroups disagree", Config{{Binary: libc, Symbol: "main", ByCgroup: true, MaxCgroups: new(3)}, {Binary: libc, Symbol: "exit", ByCgroup: true, MaxCgroups: new(4)}},
			`[1].max_cgroups: 4, but an earlier function has 3: one cap serves every function`},
		{"start_times disagree", Config{{Binary: libc, Symbol: "main", StartTimes: "hash"}, {Binary: libc, Symbol: "exit", StartTimes: "auto"}},
			`[1].start_times: "auto", but an earlier function has "hash": one store serves every function`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestTooManyFunctions(t *testing.T) {
	cfg := make(Config, MaxFunctions+1)
	require.ErrorContains(t, cfg.Validate(), "257 functions configured, at most 256 are supported")
}

func TestGoBinaryDetection(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	goBin, err := isGoBinary(self)
	require.NoError(t, err)
	require.True(t, goBin, "the test binary is a Go program")
	goBin, err = isGoBinary("/bin/sh")
	require.NoError(t, err)
	require.False(t, goBin, "/bin/sh is not")
}

// A file name may hold any byte but '/' and NUL: the binary tag escapes it
// like every name from the system, so no two binaries share it.
func TestBinaryTagEscaped(t *testing.T) {
	for path, want := range map[string]string{
		"/usr/bin/postgres": "postgres",
		`/opt/trail\`:       `trail\x5c`,
		"/opt/trail":        "trail",
		"/opt/a\tb":         `a\x09b`,
		"/opt/\xff":         `\xff`,
	} {
		require.Equal(t, want, (&Function{Binary: path}).binaryTag(), "binary %q", path)
	}
}
