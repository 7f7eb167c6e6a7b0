package ebpf_latency

import (
	"errors"
	"fmt"
	"regexp"
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
	var file struct {
		Inputs struct {
			EbpfLatency []map[string]toml.Primitive `toml:"ebpf_latency"`
		} `toml:"inputs"`
	}
	md, err := toml.Decode(string(data), &file)
	if err != nil {
		return nil, oneLine(err)
	}
	if n := len(file.Inputs.EbpfLatency); n != 1 {
		return nil, fmt.Errorf("[[%s]]: want exactly one, found %d", tablePrefix, n)
	}
	e := &EbpfLatency{Configs: map[string]probe.Config{}}
	for key, prim := range file.Inputs.EbpfLatency[0] {
		path := tablePrefix + "." + key
		if key == "probes" {
			if err := md.PrimitiveDecode(prim, &e.Probes); err != nil {
				return nil, typeError(path, err, data)
			}
			continue
		}
		def, ok := probe.ForTable(key)
		if !ok {
			return nil, fmt.Errorf("%s: unknown key (want probes or a probe table: %s)", path, quoted(probe.Tables()))
		}
		cfg := def.NewConfig()
		if err := md.PrimitiveDecode(prim, cfg); err != nil {
			return nil, typeError(path, err, data)
		}
		e.Configs[key] = cfg
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, fmt.Errorf("%s: unknown key", undecoded[0])
	}
	if err := e.Init(); err != nil {
		return nil, err
	}
	return e, nil
}

// typeError rewrites the TOML library's type mismatch as
// `key: wrong type: "sda" is a string, want a list`, quoting the value as
// written on its line.
func typeError(path string, err error, data []byte) error {
	m := mismatch.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "toml: "))
	}
	line, _ := strconv.Atoi(m[1])
	return fmt.Errorf("%s: wrong type: %s is %s, want %s", m[2], valueOnLine(data, line), kindName(m[3]), kindName(m[4]))
}

// mismatch matches the library's text: line, last key, TOML type, Go kind.
var mismatch = regexp.MustCompile(`line (\d+) \(last key "([^"]+)"\): incompatible types: TOML value has type (\S+); destination has type (\S+)`)

// kindName names the library's TOML types and Go kinds the way a config reader would.
func kindName(kind string) string {
	switch kind {
	case "slice", "array":
		return "a list"
	case "bool", "boolean":
		return "true or false"
	case "int64", "integer":
		return "an integer"
	case "float64", "float":
		return "a number"
	case "struct", "map", "table":
		return "a table"
	}
	return "a " + kind
}

// valueOnLine is the text after '=' on line n (1-based), for error messages.
func valueOnLine(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return "the value"
	}
	if _, v, ok := strings.Cut(lines[n-1], "="); ok {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(lines[n-1])
}

func oneLine(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("config line %d: %s", pe.Position.Line, pe.Message)
	}
	return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
}
