package ebpf_latency

import (
	"errors"
	"fmt"
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
				return nil, fmt.Errorf("%s: %v", path, typeError(err))
			}
			continue
		}
		def, ok := probe.ForTable(key)
		if !ok {
			return nil, fmt.Errorf("%s: unknown key (want probes or a probe table: %s)", path, quoted(probe.Tables()))
		}
		cfg := def.NewConfig()
		if err := md.PrimitiveDecode(prim, cfg); err != nil {
			return nil, fmt.Errorf("%s: %v", path, typeError(err))
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

// typeError trims the TOML library's wording to the part an operator needs.
func typeError(err error) string {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return strings.TrimPrefix(err.Error(), "toml: ")
}

func oneLine(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("config line %d: %s", pe.Position.Line, pe.Message)
	}
	return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
}
