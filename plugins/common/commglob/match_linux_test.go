package commglob

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// globMatcherBin is testdata/globmatch.c: bpf/headers/comm_glob.bpf.h, the
// automaton the probes inline, compiled for the host so the glob tests
// judge the C itself.
var globMatcherBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "globmatch-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "globmatch")
	out, err := exec.Command("gcc", "-O2", "-Wall", "-Wno-unknown-pragmas", "-o", bin,
		"testdata/globmatch.c", "-I../../../bpf/headers").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building testdata/globmatch.c: %v\n%s", err, out)
	} else {
		globMatcherBin = bin
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// kernelMatches runs the C automaton, loaded with a, on each comm.
func kernelMatches(t *testing.T, a *Automaton, comms []string) []bool {
	t.Helper()
	var in strings.Builder
	fmt.Fprintf(&in, "%d %d %d\n", a.Start, a.Star, a.Accept)
	for _, m := range a.Chars {
		fmt.Fprintf(&in, "%d ", m)
	}
	in.WriteString("\n")
	for _, c := range comms {
		in.WriteString(hex.EncodeToString([]byte(c)) + "\n")
	}
	require.NotEmpty(t, globMatcherBin, "gcc could not build testdata/globmatch.c")
	cmd := exec.Command(globMatcherBin)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	require.NoError(t, err, "globmatch")
	lines := strings.Fields(string(out))
	require.Len(t, lines, len(comms))
	got := make([]bool, len(comms))
	for i, l := range lines {
		got[i] = l == "1"
	}
	return got
}

// filterMatches judges each comm as comm_glob_wanted does: an exact name
// (the kernel's hash lookup, an exact key) or the C automaton.
func filterMatches(t *testing.T, f *Filter, comms []string) []bool {
	t.Helper()
	got := kernelMatches(t, &f.Globs, comms)
	for i, c := range comms {
		got[i] = got[i] || slices.Contains(f.Names, c)
	}
	return got
}

func TestGlobsMatchAsTheKernelWould(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		match    []string
		miss     []string
	}{
		{"exact", []string{"postgres"}, []string{"postgres"}, []string{"postgre", "postgres2", "xpostgres", ""}},
		{"prefix", []string{"nginx*"}, []string{"nginx", "nginx: worker"}, []string{"ngin", "xnginx"}},
		{"star crosses slash", []string{"kworker/*"}, []string{"kworker/0:1H", "kworker/u8:2"}, []string{"kworker"}},
		{"inner stars", []string{"*a*b*"}, []string{"ab", "xaxbx", "aab"}, []string{"ba", "a", ""}},
		{"inner star", []string{"pg_*_wal"}, []string{"pg__wal", "pg_x_y_wal"}, []string{"pg_wal", "pg_x_wal2"}},
		{"repeated stars", []string{"a***b"}, []string{"ab", "axxb"}, []string{"a", "abx"}},
		{"only star", []string{"*"}, []string{"", "anything-at-all"}, nil},
		{"question", []string{"java?"}, []string{"java1", "javaX"}, []string{"java", "java12"}},
		{"class", []string{"db[0-9]"}, []string{"db0", "db7"}, []string{"dba", "db", "db10"}},
		{"negated class", []string{"db[!0-9]", "x[^a]"}, []string{"dba", "xb"}, []string{"db5", "xa"}},
		{"escape", []string{`a\*b`, `[\]]`, `\{x\}`}, []string{"a*b", "]", "{x}"}, []string{"axb", "a", "x"}},
		{"several", []string{"redis*", "mysqld", "?ython3"}, []string{"redis-server", "mysqld", "python3"},
			[]string{"mysql", "ython3", "redi"}},
		{"exact and prefix together", []string{"in", "pre*"}, []string{"in", "pre", "prefix"}, []string{"in2", "pr", "xpre"}},
		{"15-byte comm", []string{"abcdefghijklmno"}, []string{"abcdefghijklmno"}, []string{"abcdefghijklmn"}},
		{"15-byte prefix", []string{"abcdefghijklmno*"}, []string{"abcdefghijklmno"}, []string{"abcdefghijklmn"}},
		{"any byte", []string{"a?c", "[!x]"}, []string{"a\xffc", "a\tc", "\x80"}, []string{"ac", "x"}},
		{"64 states exactly", []string{"abcdef*", "bcdefg*", "cdefgh*", "defghi*", "efghij*", "fghijk*", "ghijkl*", "hijklm*"},
			[]string{"abcdefg", "hijklmn", "efghijk"}, []string{"abcde", "ijklmno", "hijkl"}},
		{"exact names with globs", []string{"postgres", "mysqld", "java", "redis*", "a\\*b"},
			[]string{"postgres", "mysqld", "java", "redis-server", "a*b"}, []string{"postgres2", "jav", "mysql", "axb"}},
		{"braces", []string{"{post,my}gres", "x{a,b{c,d}}y", "db{1,2}*", `\{a,b\}`, "[{]z", "n{,s}"},
			[]string{"postgres", "mygres", "xay", "xbcy", "xbdy", "db1", "db2x", "{a,b}", "{z", "n", "ns"},
			[]string{"post", "xby", "xbcdy", "db3", "a", "b", "{a", "z", "nn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.patterns)
			require.NoError(t, err)
			got := filterMatches(t, f, append(tt.match, tt.miss...))
			for i, c := range tt.match {
				require.True(t, got[i], "%q should match %q", tt.patterns, c)
			}
			for i, c := range tt.miss {
				require.False(t, got[len(tt.match)+i], "%q should not match %q", tt.patterns, c)
			}
		})
	}
}
