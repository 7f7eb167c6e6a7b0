package ebpf_latency

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Bounds on what Parse reads, so that a broken or hostile config file gets
// one short line instead of minutes of parsing, a 2 MB message or the TOML
// parser's stack overflow (it recurses once per nested bracket: a million of
// them take 900 MB; 1.2 million crash the process).
const (
	// MaxConfigBytes is far above any real config (the sample is 8 KiB);
	// readers stop after MaxConfigBytes+1 bytes.
	MaxConfigBytes = 1 << 20
	// maxNesting bounds nested arrays and inline tables; real configs use 2.
	maxNesting = 32
	// maxQuoted bounds a value quoted in an error message.
	maxQuoted = 64
)

// checkSize refuses files over MaxConfigBytes and values nested deeper than
// maxNesting, before the TOML parser sees them.
func checkSize(data []byte) error {
	if len(data) > MaxConfigBytes {
		return fmt.Errorf("config larger than %d KiB: refused", MaxConfigBytes>>10)
	}
	line, depth := 1, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			end := tomlStringEnd(data, i)
			line += strings.Count(string(data[i:end]), "\n")
			i = end
		case '[', '{':
			if depth++; depth > maxNesting {
				return fmt.Errorf("config line %d: arrays and inline tables nested more than %d deep", line, maxNesting)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// tomlStringEnd is the index of the last quote of the (possibly multi-line)
// string opening at data[open], or len(data)-1 when it never closes.
func tomlStringEnd(data []byte, open int) int {
	q := data[open]
	delim := string([]byte{q})
	if strings.HasPrefix(string(data[open:min(open+3, len(data))]), strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	for i := open + len(delim); i < len(data); i++ {
		switch {
		case data[i] == '\\' && q == '"':
			i++
		case len(delim) == 1 && data[i] == '\n':
			return i - 1 // unclosed one-line string: the parser reports it
		case strings.HasPrefix(string(data[i:min(i+len(delim), len(data))]), delim):
			return i + len(delim) - 1
		}
	}
	return len(data) - 1
}

// clip shortens text quoted from the config to maxQuoted bytes.
func clip(s string) string { return Clip(s, maxQuoted) }

// Clip shortens s to at most n bytes (at a rune boundary), saying how long
// it was.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}

// hasSettings tells whether the probe table key sets anything, as opposed
// to the sample config's tables whose every key is commented out.
func hasSettings(md toml.MetaData, key string) bool {
	for _, k := range md.Keys() {
		if len(k) > 3 && k[0] == "inputs" && k[1] == "ebpf_latency" && k[2] == key {
			return true
		}
	}
	return false
}

// indexedKey spells a key from the parser the way the config reference
// does, with the index of the array-of-tables element holding it:
// inputs.ebpf_latency.tcp.peer_groups[1].nmae. With want, the element is
// the first whose value for the key satisfies it.
func indexedKey(data []byte, key toml.Key, want ...func(any) bool) string {
	var doc struct {
		Inputs struct {
			EbpfLatency []map[string]any `toml:"ebpf_latency"`
		} `toml:"inputs"`
	}
	if len(key) < 3 || key[0] != "inputs" || key[1] != "ebpf_latency" {
		return key.String()
	}
	if _, err := toml.Decode(string(data), &doc); err != nil || len(doc.Inputs.EbpfLatency) != 1 {
		return key.String()
	}
	var b strings.Builder
	b.WriteString(tablePrefix)
	var node any = doc.Inputs.EbpfLatency[0]
	for i, part := range key[2:] {
		b.WriteString("." + part)
		table, _ := node.(map[string]any)
		node = table[part]
		rest := key[2+i+1:]
		if elems := tablesOf(node); elems != nil && len(rest) > 0 {
			for j, elem := range elems {
				if holds(elem, rest, want...) {
					fmt.Fprintf(&b, "[%d]", j)
					node = elem
					break
				}
			}
		}
	}
	return b.String()
}

// tablesOf is an array of tables' elements, nil for any other value.
func tablesOf(v any) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		tables := make([]map[string]any, 0, len(v))
		for _, e := range v {
			if t, ok := e.(map[string]any); ok {
				tables = append(tables, t)
			} else {
				return nil
			}
		}
		return tables
	}
	return nil
}

// holds tells whether the dotted path exists inside table (through arrays
// of tables too) with a value every want accepts.
func holds(table map[string]any, path []string, want ...func(any) bool) bool {
	v, ok := table[path[0]]
	if !ok {
		return false
	}
	if len(path) == 1 {
		for _, w := range want {
			ok = ok && w(v)
		}
		return ok
	}
	if t, isTable := v.(map[string]any); isTable {
		return holds(t, path[1:], want...)
	}
	for _, t := range tablesOf(v) {
		if holds(t, path[1:], want...) {
			return true
		}
	}
	return false
}

// quotedText is a Go-quoted string in a message; longWord any other run of
// text long enough to need clipping (a key, a value the parser echoes).
var (
	quotedText = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	longWord   = regexp.MustCompile(`[^\s":]{` + strconv.Itoa(2*maxQuoted+1) + `,}`)
)

// shorten clips every long quoted value and word in a config error, so the
// message stays one short line however long the config's text is.
func shorten(err error) error {
	msg := quotedText.ReplaceAllStringFunc(err.Error(), func(q string) string {
		if len(q) <= maxQuoted {
			return q
		}
		return strings.Replace(clip(q), "... (", `..." (`, 1)
	})
	msg = longWord.ReplaceAllStringFunc(msg, clip)
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
