package runq

import (
	"testing"

	"github.com/stretchr/testify/require"
)

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
		{"repeated stars", []string{"a***b"}, []string{"ab", "axxb"}, []string{"a", "abx"}},
		{"only star", []string{"*"}, []string{"", "anything-at-all"}, nil},
		{"question", []string{"java?"}, []string{"java1", "javaX"}, []string{"java", "java12"}},
		{"class", []string{"db[0-9]"}, []string{"db0", "db7"}, []string{"dba", "db", "db10"}},
		{"negated class", []string{"db[!0-9]", "x[^a]"}, []string{"dba", "xb"}, []string{"db5", "xa"}},
		{"escape", []string{`a\*b`, `[\]]`}, []string{"a*b", "]"}, []string{"axb", "a"}},
		{"several", []string{"redis*", "mysqld", "?ython3"}, []string{"redis-server", "mysqld", "python3"},
			[]string{"mysql", "ython3", "redi"}},
		{"15-byte comm", []string{"abcdefghijklmno"}, []string{"abcdefghijklmno"}, []string{"abcdefghijklmn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := compileGlobs(tt.patterns)
			require.NoError(t, err)
			for _, c := range tt.match {
				require.True(t, a.match(c), "%q should match %q", tt.patterns, c)
			}
			for _, c := range tt.miss {
				require.False(t, a.match(c), "%q should not match %q", tt.patterns, c)
			}
		})
	}
}

func TestGlobsRefused(t *testing.T) {
	long := ""
	for i := 0; i < 8; i++ {
		long += "abcdefg"
	}
	for pattern, want := range map[string]string{
		"":                 `bad glob "": empty pattern`,
		"db[0-9":           `bad glob "db[0-9": unclosed [`,
		"x[z-a]":           `bad glob "x[z-a]": bad range z-a`,
		`trail\`:           `bad glob "trail\\": trailing backslash`,
		"abcdefghijklmnop": `bad glob "abcdefghijklmnop": needs 16 bytes, but a comm has at most 15`,
	} {
		_, err := compileGlobs([]string{pattern})
		require.EqualError(t, err, want)
	}
	// Nine 7-byte names need 9 * 8 = 72 states; 64 fit.
	var many []string
	for i := 0; i < 9; i++ {
		many = append(many, long[i:i+7])
	}
	_, err := compileGlobs(many[:8])
	require.NoError(t, err)
	_, err = compileGlobs(many)
	require.ErrorContains(t, err, "too long together at \""+many[8]+"\"")
}
