package tagvalue

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/influxdata/telegraf/metric"
	influxparser "github.com/influxdata/telegraf/plugins/parsers/influx"
	influxserializer "github.com/influxdata/telegraf/plugins/serializers/influx"
	"github.com/stretchr/testify/require"
)

// tricky are the source values issue 12 found merged, emptied or mangled,
// and their neighbours.
var tricky = []string{
	"", "trail", `trail\`, `trail\\`, `\`, `\\`, `\\\`, "other", "other ", "Other", `\x6fther`,
	`\empty`, "empty", "\x00", "\x00\x00", "a\tb", `a\tb`, "a\nb", `a\nb`, "a\rb", "a\fb",
	"\xff\xfe", "\xc3", "é", "e\u0301", "\u00ad", "\u2028", "\ufffd", "\x7f",
	"a b", "a,b", "a=b", `a\ b`, `a\,b`, `a\=b`, `a"b`, `a\"b`, "kworker/0:1H", "日本語", `\x5c`, "x",
}

func TestEscapeTable(t *testing.T) {
	for in, want := range map[string]string{
		"postgres":      "postgres",
		"kworker/0:1H":  "kworker/0:1H",
		"nginx: worker": "nginx: worker",
		"café":          "café",
		"":              Empty,
		"other":         `\x6fther`,
		`trail\`:        `trail\x5c`,
		`\\`:            `\x5c\x5c`,
		"a\tb":          `a\x09b`,
		"a\nb":          `a\x0ab`,
		"\xff\xfe":      `\xff\xfe`,
		"a\xc3":         `a\xc3`,        // a truncated two-byte rune
		"\u2028":        `\xe2\x80\xa8`, // a valid but non-printable rune
		"\x7f":          `\x7f`,
		`\x5c`:          `\x5cx5c`,
	} {
		require.Equal(t, want, Escape(in), "Escape(%q)", in)
	}
}

func TestFromCStopsAtNUL(t *testing.T) {
	require.Equal(t, "ab", FromC([]byte("ab\x00cd\x00")))
	require.Equal(t, Empty, FromC(make([]byte, 16)))
	require.Equal(t, `trail\x5c`, FromC([]byte(`trail\`)))
}

// Distinct sources never share a tag value, and none is the fold series.
func TestEscapeInjectiveOverTrickyValues(t *testing.T) {
	seen := map[string]string{}
	for _, s := range tricky {
		e := Escape(s)
		requireWellFormed(t, s, e)
		if prev, dup := seen[e]; dup {
			t.Fatalf("%q and %q both escape to %q", prev, s, e)
		}
		seen[e] = s
	}
}

func TestUnescapeRefusesWhatEscapeNeverWrites(t *testing.T) {
	for _, v := range []string{"", Folded, `\`, `a\`, `\x`, `\x5`, `\xZZ`, `\X5c`, `\x41`, "a\tb", "\xff", `\emptyx`} {
		_, err := Unescape(v)
		require.ErrorIs(t, err, ErrNotEscaped, "Unescape(%q)", v)
	}
}

// requireWellFormed checks what the line protocol and Prometheus need of e,
// and that it decodes back to s.
func requireWellFormed(t testing.TB, s, e string) {
	t.Helper()
	require.NotEmpty(t, e, "Escape(%q)", s)
	require.True(t, utf8.ValidString(e), "Escape(%q) = %q is not UTF-8", s, e)
	require.False(t, strings.HasSuffix(e, `\`), "Escape(%q) = %q ends in a backslash", s, e)
	require.NotEqual(t, Folded, e, "Escape(%q) is the fold series", s)
	back, err := Unescape(e)
	require.NoError(t, err, "Unescape(Escape(%q) = %q)", s, e)
	require.Equal(t, s, back, "Unescape(Escape(%q))", s)
	require.Equal(t, e, throughLineProtocol(t, e), "tag value %q through telegraf's serializer and parser", e)
}

// throughLineProtocol writes v as a tag with telegraf's influx serializer
// (what the execd shim uses) and reads it back with its influx parser (what
// inputs.execd uses).
func throughLineProtocol(t testing.TB, v string) string {
	t.Helper()
	m := metric.New("m", map[string]string{"comm": v}, map[string]any{"f": 1}, time.Unix(0, 0))
	var ser influxserializer.Serializer
	require.NoError(t, ser.Init())
	line, err := ser.Serialize(m)
	require.NoError(t, err)
	parser := &influxparser.Parser{}
	require.NoError(t, parser.Init())
	ms, err := parser.Parse(line)
	require.NoError(t, err, "parsing %q", line)
	require.Len(t, ms, 1)
	got, ok := ms[0].GetTag("comm")
	require.True(t, ok, "tag lost in %q", line)
	return got
}

func FuzzEscape(f *testing.F) {
	for i, s := range tricky {
		f.Add(s, tricky[(i+1)%len(tricky)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		requireWellFormed(t, a, Escape(a))
		if a != b && Escape(a) == Escape(b) {
			t.Fatalf("%q and %q share the tag value %q", a, b, Escape(a))
		}
	})
}
