package runq

import (
	"fmt"

	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/commglob"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// Config is the [inputs.ebpf_latency.runq] table.
type Config struct {
	// Comms are globs or exact names of the tasks to measure, one series
	// each; empty means one series for every task, without a comm tag.
	Comms []string `toml:"comms"`
	// MaxComms caps the comm series; later comms fold into comm="other".
	MaxComms int `toml:"max_comms"`
	// Hook pins the hook flavour: "auto" (best that works), "tp_btf" or "raw_tp".
	Hook string `toml:"hook"`

	// Buckets overrides the plugin-wide bucket scheme for this probe.
	histogram.TableBuckets
	// Where enqueue times come from: start_times, the shared values
	// ("auto", "task_storage", "hash") plus StartTimesKernel.
	taskstarts.Setting
	// Slow events: slow_threshold, slow_events_per_second.
	slowevent.Config
	// By cgroup: by_cgroup, cgroups, max_cgroups.
	cgroup.Attribution
}

// Bounds of max_comms: the histogram map holds one entry per series.
const (
	DefaultMaxComms = 64
	maxMaxComms     = 4096
)

// DefaultConfig measures every task as one series through the best hook.
func DefaultConfig() *Config {
	return &Config{MaxComms: DefaultMaxComms, Hook: "auto",
		Setting: taskstarts.DefaultSetting(), Config: slowevent.DefaultConfig(), Attribution: cgroup.Default()}
}

// StartTimesKernel takes enqueue times from the scheduler's own stamps
// (sched_info.last_queued): one sched_switch program, tp_btf only.
const StartTimesKernel = "kernel"

// offered are the flavours this probe has programs for, best first.
var offered = []hooks.Kind{hooks.TPBTF, hooks.RawTP}

// Validate checks every key; errors name the key and the bad value.
func (c *Config) Validate() error {
	if _, err := commglob.Compile(c.Comms); err != nil {
		return fmt.Errorf("comms: %v", err)
	}
	if c.MaxComms < 1 || c.MaxComms > maxMaxComms {
		return fmt.Errorf("max_comms: %d out of range (want 1 to %d)", c.MaxComms, maxMaxComms)
	}
	if c.Hook != "auto" {
		k, err := hooks.ParseKind(c.Hook)
		if err != nil || (k != hooks.TPBTF && k != hooks.RawTP) {
			return fmt.Errorf("hook: unknown hook %q (want \"auto\", %q or %q)", c.Hook, offered[0], offered[1])
		}
	}
	if err := c.validateStartTimes(); err != nil {
		return err
	}
	if err := c.Attribution.Validate(); err != nil {
		return err
	}
	return c.Config.Validate()
}

// pinnedHook is the flavour the config pins, or nil for auto.
func (c *Config) pinnedHook() *hooks.Kind {
	if c.Hook == "auto" {
		return nil
	}
	k, _ := hooks.ParseKind(c.Hook)
	return &k
}

// validateStartTimes accepts the shared start_times values and "kernel",
// which needs tp_btf.
func (c *Config) validateStartTimes() error {
	if c.StartTimes != StartTimesKernel {
		if err := c.Setting.Validate(); err != nil {
			return fmt.Errorf("start_times: unknown value %q (want %q, %q, %q or %q)",
				c.StartTimes, taskstarts.Auto, StartTimesKernel, taskstarts.TaskStorage, taskstarts.Hash)
		}
		return nil
	}
	if c.Hook != "auto" && c.Hook != hooks.TPBTF.String() {
		return fmt.Errorf("start_times: %q needs hook %q or \"auto\", not %q", c.StartTimes, hooks.TPBTF, c.Hook)
	}
	return nil
}

// singleSeries: without comms or by_cgroup every task shares one series,
// kept in a per-CPU array (runq_single) instead of the keyed hash.
func (c *Config) singleSeries() bool { return len(c.Comms) == 0 && !c.ByCgroup }

// histMap is the map the series are read from.
func (c *Config) histMap() string {
	if c.singleSeries() {
		return runqbpf.RunqMapRunqSingle
	}
	return runqbpf.RunqMapRunqHists
}
