package funcprobe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// Function is one [[inputs.ebpf_latency.functions]] table.
type Function struct {
	// Binary is the absolute path of the executable or shared library.
	Binary string `toml:"binary"`
	// Symbol is the function's name in the ELF symbol table or dynsym.
	Symbol string `toml:"symbol"`
	// PID limits the probe to one process; 0 means every process.
	PID int `toml:"pid"`
	// Name replaces Symbol in tag `function`.
	Name string `toml:"name"`
	// GoBinaryOK accepts a Go binary despite the uretprobe hazard.
	GoBinaryOK bool `toml:"go_binary_ok"`

	// Buckets overrides the plugin-wide bucket scheme for this probe.
	histogram.TableBuckets

	// SlowThreshold ("50ms"): calls at least this slow are also events.
	SlowThreshold string `toml:"slow_threshold"`
	// SlowEventsPerSecond caps the events of all functions (one bucket):
	// nil (unset) leaves the default; functions that set it must agree. A
	// pointer so that a written 0 is refused like in the probe tables.
	SlowEventsPerSecond *int `toml:"slow_events_per_second"`

	// StartTimes says where entry times live for every function ("auto",
	// "task_storage", "hash"); "" leaves auto; functions that set it must
	// agree.
	StartTimes string `toml:"start_times"`

	// ByCgroup splits this function's series by the calling thread's
	// cgroup (tag cgroup).
	ByCgroup bool `toml:"by_cgroup"`
	// Cgroups and MaxCgroups are one filter and one cap for every
	// function with by_cgroup: functions that set them must agree.
	// MaxCgroups nil (unset) leaves the default; a written 0 is refused.
	Cgroups    []string `toml:"cgroups"`
	MaxCgroups *int     `toml:"max_cgroups"`
}

// Config is the array of function tables.
type Config []Function

// MaxFunctions bounds the series (FUNC_MAX in bpf/func/func.h).
const MaxFunctions = 256

// DefaultConfig has no functions: the user must name some.
func DefaultConfig() *Config { return &Config{} }

// BucketsKey is the buckets value the functions set (the first that does):
// one probe, one bound set, so Validate refuses another.
func (c *Config) BucketsKey() string {
	for _, f := range *c {
		if f.Buckets != "" {
			return f.Buckets
		}
	}
	return ""
}

// Validate checks every entry; errors read `[i].key: message` (i from 0).
func (c *Config) Validate() error {
	if len(*c) == 0 {
		return errors.New("[]: no functions configured (add [[inputs.ebpf_latency.functions]] tables with binary and symbol)")
	}
	if len(*c) > MaxFunctions {
		return fmt.Errorf("[%d]: %d functions configured, at most %d are supported", MaxFunctions, len(*c), MaxFunctions)
	}
	type ident struct {
		binary, symbol string
		pid            int
	}
	seen := map[ident]int{}
	tags := map[[2]string]int{}
	for i, f := range *c {
		if err := f.validate(); err != nil {
			return fmt.Errorf("[%d].%w", i, err)
		}
		if err := f.slowConfig(c.perSecond()).Validate(); err != nil {
			return fmt.Errorf("[%d].%w", i, err)
		}
		if f.SlowEventsPerSecond != nil && *f.SlowEventsPerSecond != c.perSecond() {
			return fmt.Errorf("[%d].slow_events_per_second: %d, but an earlier function has %d: one rate limits the events of every function", i, *f.SlowEventsPerSecond, c.perSecond())
		}
		if f.StartTimes != "" {
			if err := (&taskstarts.Setting{StartTimes: f.StartTimes}).Validate(); err != nil {
				return fmt.Errorf("[%d].%w", i, err)
			}
			if f.StartTimes != c.startTimes().StartTimes {
				return fmt.Errorf("[%d].start_times: %q, but an earlier function has %q: one store serves every function", i, f.StartTimes, c.startTimes().StartTimes)
			}
		}
		if err := f.validateCgroups(c.attribution()); err != nil {
			return fmt.Errorf("[%d].%w", i, err)
		}
		if f.Buckets != "" && f.Buckets != c.BucketsKey() {
			return fmt.Errorf("[%d].buckets: %q, but an earlier function has %q: every function of the probe has the same buckets", i, f.Buckets, c.BucketsKey())
		}
		id := ident{filepath.Clean(f.Binary), f.Symbol, f.PID}
		if j, ok := seen[id]; ok {
			return fmt.Errorf("[%d]: binary %q, symbol %q, pid %d: duplicate of [%d]", i, f.Binary, f.Symbol, f.PID, j)
		}
		seen[id] = i
		// Two entries with one tag set would merge into one series.
		tag := [2]string{f.binaryTag(), f.functionTag()}
		if j, ok := tags[tag]; ok {
			return fmt.Errorf("[%d].name: binary %q and function %q are already the tags of [%d]; set a distinct name",
				i, tag[0], tag[1], j)
		}
		tags[tag] = i
	}
	return nil
}

// perSecond is the slow-event rate the functions set (the first that does).
func (c *Config) perSecond() int {
	for _, f := range *c {
		if f.SlowEventsPerSecond != nil {
			return *f.SlowEventsPerSecond
		}
	}
	return slowevent.DefaultPerSecond
}

// attribution is the probe's cgroup attribution: on when any function has
// by_cgroup; the cgroups and max_cgroups of the first function that sets
// them.
func (c *Config) attribution() cgroup.Attribution {
	a := cgroup.Default()
	capSet := false
	for _, f := range *c {
		a.ByCgroup = a.ByCgroup || f.ByCgroup
		if f.Cgroups != nil && a.Cgroups == nil {
			a.Cgroups = f.Cgroups
		}
		if f.MaxCgroups != nil && !capSet {
			a.MaxCgroups, capSet = *f.MaxCgroups, true
		}
	}
	return a
}

// validateCgroups checks one function's cgroup keys, and that they agree
// with the probe's (the first function's that sets them).
func (f *Function) validateCgroups(probe cgroup.Attribution) error {
	own := cgroup.Attribution{ByCgroup: f.ByCgroup, Cgroups: f.Cgroups, MaxCgroups: cgroup.DefaultMax}
	if f.MaxCgroups != nil {
		own.MaxCgroups = *f.MaxCgroups
	}
	if err := own.Validate(); err != nil {
		return err
	}
	if f.Cgroups != nil && !slices.Equal(f.Cgroups, probe.Cgroups) {
		return fmt.Errorf("cgroups: %q, but an earlier function has %q: one filter serves every function", f.Cgroups, probe.Cgroups)
	}
	if f.MaxCgroups != nil && *f.MaxCgroups != probe.MaxCgroups {
		return fmt.Errorf("max_cgroups: %d, but an earlier function has %d: one cap serves every function", *f.MaxCgroups, probe.MaxCgroups)
	}
	return nil
}

// startTimes is the store the functions set (the first that does).
func (c *Config) startTimes() taskstarts.Setting {
	for _, f := range *c {
		if f.StartTimes != "" {
			return taskstarts.Setting{StartTimes: f.StartTimes}
		}
	}
	return taskstarts.DefaultSetting()
}

// slowConfig is the probe's slow-event gate: the smallest threshold of any
// function (the kernel checks each function's own).
func (c *Config) slowConfig() slowevent.Config {
	sc := slowevent.Config{PerSecond: c.perSecond()}
	var smallest time.Duration
	for _, f := range *c {
		if d := f.slowThreshold(); d > 0 && (smallest == 0 || d < smallest) {
			smallest, sc.Threshold = d, f.SlowThreshold
		}
	}
	return sc
}

func (f *Function) slowConfig(perSecond int) *slowevent.Config {
	return &slowevent.Config{Threshold: f.SlowThreshold, PerSecond: perSecond}
}

func (f *Function) slowThreshold() time.Duration {
	d, _ := time.ParseDuration(f.SlowThreshold)
	return d
}

func (f *Function) validate() error {
	if f.Binary == "" {
		return errors.New("binary: missing (want the absolute path of an executable or shared library)")
	}
	if !filepath.IsAbs(f.Binary) {
		return fmt.Errorf("binary: %q is not an absolute path", f.Binary)
	}
	st, err := os.Stat(f.Binary)
	if err != nil {
		return fmt.Errorf("binary: %q: %v", f.Binary, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("binary: %q is not a regular file", f.Binary)
	}
	if f.Symbol == "" {
		return fmt.Errorf("symbol: missing (want a function name in %s)", f.Binary)
	}
	if f.PID < 0 {
		return fmt.Errorf("pid: %d is negative (want a process ID, or 0 for every process)", f.PID)
	}
	if !f.GoBinaryOK {
		goBin, err := isGoBinary(f.Binary)
		if err != nil {
			return fmt.Errorf("binary: %q: %v", f.Binary, err)
		}
		if goBin {
			return fmt.Errorf("binary: %q is a Go program: Go moves goroutine stacks, and a uretprobe's rewritten return address then crashes it; set go_binary_ok = true only if you accept that risk", f.Binary)
		}
	}
	return nil
}

// binaryTag is tag `binary`: the file's base name, escaped like every name
// the system hands us (a file name may hold any byte but '/' and NUL).
func (f *Function) binaryTag() string { return tagvalue.Escape(filepath.Base(f.Binary)) }

// functionTag is tag `function`: the alias, else the symbol.
func (f *Function) functionTag() string {
	if f.Name != "" {
		return f.Name
	}
	return f.Symbol
}
