package ebpf_latency

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

const tablePrefix = "inputs.ebpf_latency"

// Parse reads a shim config file holding one [[inputs.ebpf_latency]] and
// validates it. Unlike telegraf's loader it refuses unknown keys: a typo such
// as `devics` must not silently fall back to a default. Errors are one line
// naming the key and the value.
func Parse(data []byte) (*EbpfLatency, error) {
	e, err := parse(data)
	if err != nil {
		return nil, shorten(err)
	}
	return e, nil
}

func parse(data []byte) (*EbpfLatency, error) {
	if err := checkSize(data); err != nil {
		return nil, err
	}
	var file struct {
		Inputs struct {
			EbpfLatency []map[string]toml.Primitive `toml:"ebpf_latency"`
		} `toml:"inputs"`
	}
	md, err := toml.Decode(string(data), &file)
	if err != nil {
		return nil, oneLine(err, data)
	}
	if n := len(file.Inputs.EbpfLatency); n != 1 {
		return nil, fmt.Errorf("[[%s]]: want exactly one, found %d", tablePrefix, n)
	}
	e := &EbpfLatency{Configs: map[string]probe.Config{}}
	for key, prim := range file.Inputs.EbpfLatency[0] {
		path := tablePrefix + "." + key
		if dst, ok := e.pluginKeys()[key]; ok {
			if err := md.PrimitiveDecode(prim, dst); err != nil {
				return nil, typeError(path, err, data)
			}
			continue
		}
		def, ok := probe.ForTable(key)
		if !ok {
			return nil, fmt.Errorf("%s: unknown key (keys: %s; tables: %s)", path, pluginKeyNames, strings.Join(probe.Tables(), ", "))
		}
		cfg := def.NewConfig()
		if err := md.PrimitiveDecode(prim, cfg); err != nil {
			return nil, typeError(path, err, data)
		}
		e.Configs[key] = cfg
		if hasSettings(md, key) {
			e.settingsTables = append(e.settingsTables, key)
		}
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, fmt.Errorf("%s: unknown key", indexedKey(data, undecoded[0]))
	}
	if err := e.Init(); err != nil {
		return nil, err
	}
	return e, nil
}

// pluginKeys are the keys of [[inputs.ebpf_latency]] beside the probe tables.
func (e *EbpfLatency) pluginKeys() map[string]any {
	return map[string]any{
		"probes":                 &e.Probes,
		"buckets":                &e.Buckets,
		"quantiles":              &e.Quantiles,
		"bucket_counts":          &e.BucketCounts,
		"expire_idle_series":     &e.ExpireIdleSeries,
		"unchanged_series_every": &e.UnchangedSeriesEvery,
	}
}

const pluginKeyNames = "probes, buckets, quantiles, bucket_counts, expire_idle_series, unchanged_series_every"

// typeError rewrites the TOML library's type mismatch as
// `key: wrong type: "sda" is a string, want a list`, quoting the value as
// written on its line.
func typeError(path string, err error, data []byte) error {
	m := mismatch.FindStringSubmatch(err.Error())
	if m == nil {
		if m = notTable.FindStringSubmatch(err.Error()); m != nil {
			m = append(m, "table")
		}
	}
	if m != nil {
		line, _ := strconv.Atoi(m[1])
		value, found, want := valueOnLine(data, line, m[2]), kindName(m[3]), kindName(m[4])
		// The library may name the type of an element of a list: say so.
		inList := strings.HasPrefix(value, "[") && found != "a list of tables" && want != "a list" && want != "a list of tables"
		key := typedKey(data, m[2], m[3], inList)
		if inList {
			return fmt.Errorf("%s: wrong type: %s holds %s, want a list of %s", key, value, found, plural(want))
		}
		return fmt.Errorf("%s: wrong type: %s is %s, want %s", key, value, found, want)
	}
	return fmt.Errorf("%s: %s", path, clip(strings.TrimPrefix(err.Error(), "toml: ")))
}

// mismatch matches the library's text: line, last key, TOML type, Go kind.
var mismatch = regexp.MustCompile(`line (\d+) \(last key "([^"]+)"\): incompatible types: TOML value has type (\S+); destination has type (\S+)`)

// notTable matches the library's text for a value where a table belongs.
var notTable = regexp.MustCompile(`line (\d+) \(last key "([^"]+)"\): type mismatch for \S+: expected table but found (\S+)`)

// typedKey is the library's dotted last key with array-of-tables indexes,
// choosing the element whose value (inList: an element of whose value) has
// the TOML type it complained about.
func typedKey(data []byte, dotted, tomlType string, inList bool) string {
	hasType := func(v any) bool { return strings.ReplaceAll(fmt.Sprintf("%T", v), "interface {}", "any") == tomlType }
	if inList {
		return indexedKey(data, toml.Key(strings.Split(dotted, ".")), func(v any) bool {
			list, _ := v.([]any)
			return slices.ContainsFunc(list, hasType)
		})
	}
	return indexedKey(data, toml.Key(strings.Split(dotted, ".")), hasType)
}

// plural turns kindName's "a string" into "strings".
func plural(kind string) string {
	switch kind {
	case "true or false":
		return "booleans"
	case "a date or time":
		return "dates or times"
	}
	kind = strings.TrimPrefix(strings.TrimPrefix(kind, "an "), "a ")
	return kind + "s"
}

// kindName names the library's TOML types and Go kinds the way a config reader would.
func kindName(kind string) string {
	switch kind {
	case "slice", "array", "[]any":
		return "a list"
	case "[]map[string]any":
		return "a list of tables"
	case "time.Time", "toml.LocalDate", "toml.LocalTime", "toml.LocalDateTime":
		return "a date or time"
	case "bool", "boolean":
		return "true or false"
	case "int64", "integer":
		return "an integer"
	case "float64", "float":
		return "a number"
	case "struct", "map", "table", "map[string]any":
		return "a table"
	}
	return "a " + kind
}

// valueOnLine is the value of key (dotted; its last part is looked for) as
// written on line n (1-based), clipped, for error messages. Inside an inline
// table only that key's value is quoted, not the whole table.
func valueOnLine(data []byte, n int, key string) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return "the value"
	}
	line := lines[n-1]
	last := key[strings.LastIndex(key, ".")+1:]
	if loc := keyAssign(last).FindStringIndex(line); loc != nil {
		return clip(valueAt(line[loc[1]:]))
	}
	if _, v, ok := strings.Cut(line, "="); ok {
		return clip(strings.TrimSpace(v))
	}
	return clip(strings.TrimSpace(line))
}

// keyAssign matches `key =` (bare or quoted) at a key position.
func keyAssign(key string) *regexp.Regexp {
	k := regexp.QuoteMeta(key)
	return regexp.MustCompile(`(?:^|[\s{,.])(?:` + k + `|"` + k + `"|'` + k + `')\s*=\s*`)
}

// valueAt is the TOML value at the start of s: up to the end of its string,
// its closing bracket, or else the next comma, brace or comment.
func valueAt(s string) string {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'':
			i = stringEnd(s, i)
			if depth == 0 {
				return s[:min(i+1, len(s))]
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return strings.TrimSpace(s[:i])
			}
			if depth--; depth == 0 {
				return s[:i+1]
			}
		case ',', '#':
			if depth == 0 {
				return strings.TrimSpace(s[:i])
			}
		}
	}
	return strings.TrimSpace(s)
}

// stringEnd is the index of the quote closing the one-line string opened at
// s[open] (len(s) when unclosed); only "basic" strings have escapes.
func stringEnd(s string, open int) int {
	for i := open + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if s[open] == '"' {
				i++
			}
		case s[open]:
			return i
		}
	}
	return len(s)
}

func oneLine(err error, data []byte) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("config line %d: %s", pe.Position.Line, pe.Message)
	}
	return typeError(tablePrefix, err, data)
}
