// Package probe is the contract between the ebpf_latency plugin and its
// probes. A probe registers a Definition from its package's init; the plugin
// decodes the probe's config table, builds it, and runs it in isolation: one
// probe failing to start leaves the others running.
package probe

import (
	"sort"

	"github.com/influxdata/telegraf"
)

// Config is one probe's table, [inputs.ebpf_latency.<name>].
type Config interface {
	// Validate names the offending key and value in its error, e.g.
	// `stages: unknown stage "queu"` (or `[2].symbol: ...` for an array of
	// tables); the caller prefixes the table path.
	Validate() error
}

// Probe is one running measurement.
type Probe interface {
	// Start loads and attaches the eBPF programs.
	Start() error
	// Gather emits the probe's metrics since Start (cumulative histograms).
	Gather(acc telegraf.Accumulator) error
	// Status feeds the self-metrics: which hook won, and health counters.
	Status() Status
	// Stop detaches and frees everything Start created. Safe to call twice.
	Stop() error
}

// Status is a probe's self-report.
type Status struct {
	Hook string // flavour that attached, e.g. "tp_btf"
	// StartTimes is the start_times value that runs (never "auto") for
	// probes offering a choice the hook does not tell (disk: "kernel",
	// "probe", "kernel+probe"; syscall, func: "task_storage", "hash";
	// tcp_connect: "socket_storage", "lru"; runq: "kernel",
	// "task_storage", "hash"); empty otherwise.
	StartTimes string
	Counters   map[string]uint64 // field name -> cumulative count
}

// Definition registers a probe under the name used in `probes`.
type Definition struct {
	Name string
	// Table is the probe's config key under [inputs.ebpf_latency]; probes
	// that share one (tcp_rtt, tcp_connect, ... under "tcp") share one
	// config value. Empty means Name.
	Table string
	// NewConfig returns the table's defaults; the TOML value is decoded
	// into it in place, so a pointer to a slice serves an array of tables.
	NewConfig func() Config
	New       func(cfg Config, log telegraf.Logger) Probe
}

// ConfigKey is the probe's table name under [inputs.ebpf_latency].
func (d Definition) ConfigKey() string {
	if d.Table != "" {
		return d.Table
	}
	return d.Name
}

var registry = map[string]Definition{}

// Register adds a probe; called from the probe package's init.
func Register(d Definition) { registry[d.Name] = d }

// Lookup finds a registered probe.
func Lookup(name string) (Definition, bool) {
	d, ok := registry[name]
	return d, ok
}

// ForTable finds a probe whose config lives under key.
func ForTable(key string) (Definition, bool) {
	for _, name := range Names() {
		if d := registry[name]; d.ConfigKey() == key {
			return d, true
		}
	}
	return Definition{}, false
}

// Tables lists the config keys of all registered probes, sorted.
func Tables() []string {
	seen := map[string]bool{}
	var keys []string
	for _, name := range Names() {
		if k := registry[name].ConfigKey(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Names lists registered probes, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
