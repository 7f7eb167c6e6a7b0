package commglob

import (
	"fmt"
	"strings"
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
		"x{a,b":                `bad glob "x{a,b": unclosed {`,
		"x{a,{b}":              `bad glob "x{a,{b}": unclosed {`,
		"{a,}":                 `bad glob "{a,}": alternative "": empty pattern`,
		"x{a,[b}":              `bad glob "x{a,[b}": unclosed [`,
		"{abcdefghijklmnop,q}": `bad glob "{abcdefghijklmnop,q}": alternative "abcdefghijklmnop": needs at least 16 characters, but a task comm has at most 15: it never matches`,
		"abcdefghijklmnop":     `bad glob "abcdefghijklmnop": needs at least 16 characters, but a task comm has at most 15: it never matches`,
		"postgres*walwriter":   `bad glob "postgres*walwriter": needs at least 17 characters, but a task comm has at most 15: it never matches`,
		"postgres-walwrite*r":  `bad glob "postgres-walwrite*r": needs at least 18 characters, but a task comm has at most 15: it never matches`,
		"[pq]g_walwriter_xy?*": `bad glob "[pq]g_walwriter_xy?*": needs at least 16 characters, but a task comm has at most 15: it never matches`,
	} {
		_, err := Compile([]string{pattern})
		require.EqualError(t, err, want)
	}
}

// Braces expand, nested ones too; escapes and classes are copied as written.
func TestBracesExpand(t *testing.T) {
	for pattern, want := range map[string][]string{
		"plain":           {"plain"},
		"{a,b}":           {"a", "b"},
		"x{a,b}y{1,2}":    {"xay1", "xay2", "xby1", "xby2"},
		"x{a,b{c,d}}":     {"xa", "xbc", "xbd"},
		"n{,s}":           {"n", "ns"},
		"{a}":             {"a"},
		`\{a,b\}`:         {`\{a,b\}`},
		`{a\,b,c}`:        {`a\,b`, "c"},
		"[{,}]{x,y}":      {"[{,}]x", "[{,}]y"},
		"a,b}":            {"a,b}"},
		"db{[0-9],x*}end": {"db[0-9]end", "dbx*end"},
	} {
		got, err := expandBraces(pattern)
		require.NoError(t, err, pattern)
		require.Equal(t, want, got, pattern)
	}
}

// Past MaxAlternatives one pattern is refused, whether the braces multiply
// (4^5 = 1024) or list many alternatives side by side.
func TestBracesBounded(t *testing.T) {
	require.Equal(t, 256, MaxAlternatives)
	alts, err := expandBraces(strings.Repeat("{a,b,c,d}", 4))
	require.NoError(t, err)
	require.Len(t, alts, 256)
	wide := "{" + strings.Repeat("x,", MaxAlternatives) + "y}"
	for _, p := range []string{strings.Repeat("{a,b,c,d}", 5), wide} {
		_, err := Compile([]string{p})
		require.EqualError(t, err, fmt.Sprintf("bad glob %q: braces expand to more than 256 alternatives: split the pattern", p))
	}
}

// Exact names (escaped specials and brace alternatives included) go to the
// hash, once each, and take no automaton state; only real globs do.
func TestExactNamesTakeNoStates(t *testing.T) {
	f, err := Compile([]string{"postgres", "my{sqld,sql}", `a\*b`, "[j]ava", "postgres", "redis*", "pg_[0-9]"})
	require.NoError(t, err)
	require.Equal(t, []string{"postgres", "mysqld", "mysql", "a*b", "java"}, f.Names)
	require.Equal(t, 7+5, f.Globs.states, "redis* and pg_[0-9] only")
	require.Equal(t, true, f.Knobs()["comm_glob_has_names"])
	require.Equal(t, true, f.Knobs()["comm_glob_has_globs"])

	names, err := Compile([]string{"java"})
	require.NoError(t, err)
	require.Equal(t, false, names.Knobs()["comm_glob_has_globs"], "the automaton is pruned")
	globs, err := Compile([]string{"java*"})
	require.NoError(t, err)
	require.Equal(t, false, globs.Knobs()["comm_glob_has_names"], "the hash is skipped")
}

// MaxNames exact names fit, one more is refused naming it.
func TestTooManyNames(t *testing.T) {
	var many []string
	for i := 0; i <= MaxNames; i++ {
		many = append(many, fmt.Sprintf("proc%d", i))
	}
	f, err := Compile(many[:MaxNames])
	require.NoError(t, err)
	require.Len(t, f.Names, MaxNames)
	_, err = Compile(many)
	require.EqualError(t, err, `too many exact names at "proc1024": more than 1024 (after brace expansion)`)
	_, err = Compile(append(many[:MaxNames-1:MaxNames-1], "x{a,b}"))
	require.EqualError(t, err, `too many exact names at "x{a,b}": more than 1024 (after brace expansion)`)
}

// Eight 7-byte prefix globs need 8 * 9 = 72 states; 64 fit.
func TestTooManyTokens(t *testing.T) {
	long := ""
	for i := 0; i < 8; i++ {
		long += "abcdefg"
	}
	var many []string
	for i := 0; i < 8; i++ {
		many = append(many, long[i:i+7]+"*")
	}
	_, err := Compile(many[:7])
	require.NoError(t, err)
	_, err = Compile(append(many, "exact", "names"))
	require.EqualError(t, err, `too many pattern tokens at "`+many[7]+`": the globs up to it need 72 states (one per character, `+"`?`"+`, class or star, plus one each; exact names take none), the kernel's matcher has 64`)
}

// Stars collapse, so "a***b" costs what "a*b" does; an escaped brace is a byte.
func TestTokensCounted(t *testing.T) {
	for pattern, states := range map[string]int{"a***b": 4, `\{x\}`: 4, "[a-z]?": 3, "*": 2} {
		toks, err := parseGlob(pattern)
		require.NoError(t, err, pattern)
		require.Len(t, toks, states-1, pattern)
	}
}
