package commglob

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Every refusal is one line naming the pattern (the probes prefix the key).
func TestGlobsRefused(t *testing.T) {
	for pattern, want := range map[string]string{
		"":                     `bad glob "": empty pattern`,
		"db[0-9":               `bad glob "db[0-9": unclosed [`,
		"x[z-a]":               `bad glob "x[z-a]": bad range z-a`,
		`trail\`:               `bad glob "trail\\": trailing backslash`,
		"x{a,b}":               `bad glob "x{a,b}": braces are not supported: list each alternative as a pattern of its own, or write \{ for the character`,
		"abcdefghijklmnop":     `bad glob "abcdefghijklmnop": needs at least 16 characters, but a task comm has at most 15: it never matches`,
		"postgres*walwriter":   `bad glob "postgres*walwriter": needs at least 17 characters, but a task comm has at most 15: it never matches`,
		"postgres-walwrite*r":  `bad glob "postgres-walwrite*r": needs at least 18 characters, but a task comm has at most 15: it never matches`,
		"[pq]g_walwriter_xy?*": `bad glob "[pq]g_walwriter_xy?*": needs at least 16 characters, but a task comm has at most 15: it never matches`,
	} {
		_, err := Compile([]string{pattern})
		require.EqualError(t, err, want)
	}
}

// Nine 7-byte names need 9 * 8 = 72 states; 64 fit.
func TestTooManyTokens(t *testing.T) {
	long := ""
	for i := 0; i < 8; i++ {
		long += "abcdefg"
	}
	var many []string
	for i := 0; i < 9; i++ {
		many = append(many, long[i:i+7])
	}
	_, err := Compile(many[:8])
	require.NoError(t, err)
	_, err = Compile(many)
	require.EqualError(t, err, `too many pattern tokens at "`+many[8]+`": the patterns up to it need 72 states (one per character, `+"`?`"+`, class or star, plus one each), the kernel's matcher has 64`)
}

// Stars collapse, so "a***b" costs what "a*b" does; an escaped brace is a byte.
func TestTokensCounted(t *testing.T) {
	for pattern, states := range map[string]int{"a***b": 4, `\{x\}`: 4, "[a-z]?": 3, "*": 2} {
		toks, err := parseGlob(pattern)
		require.NoError(t, err, pattern)
		require.Len(t, toks, states-1, pattern)
	}
}
