package disk

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// Config is the [inputs.ebpf_latency.disk] table.
type Config struct {
	// Devices are globs on kernel device names ("sd*", "nvme0n1") or
	// absolute paths ("/var/lib/postgresql"), which stand for the whole disks
	// under them (resolved at Start); empty means all.
	Devices []string `toml:"devices"`
	// Stages to measure: "queue" (created -> issued) and/or "service" (issued -> done).
	Stages []string `toml:"stages"`
	// Flags adds tag `flags` (sync, fua, preflush): synchronous commits are
	// exactly the sync/FUA writes.
	Flags bool `toml:"flags"`
	// Hook pins the hook flavour: "auto" (best that works), "tp_btf",
	// "raw_tp" or "tracepoint".
	Hook string `toml:"hook"`
	// StartTimes chooses where start times come from: "auto", "kernel" (the
	// block layer's own request timestamps, cheapest) or "probe" (extra
	// insert/issue hooks keep them).
	StartTimes string `toml:"start_times"`

	// Buckets overrides the plugin-wide bucket scheme for this probe.
	histogram.TableBuckets
	// Slow events: slow_threshold, slow_events_per_second.
	slowevent.Config
	// By cgroup: by_cgroup, cgroups, max_cgroups.
	cgroup.Attribution

	// HashSeries keeps every series in the per-CPU hash, as before disks
	// had rows (the benchmark's baseline); not a config key.
	HashSeries bool `toml:"-"`
}

// Stage and start-time names, as written in the config.
const (
	StageQueue   = "queue"
	StageService = "service"

	StartTimesAuto   = "auto"
	StartTimesKernel = "kernel"
	StartTimesProbe  = "probe"
)

// DefaultConfig measures both stages of every device through the best hook.
func DefaultConfig() *Config {
	return &Config{
		Stages:      []string{StageQueue, StageService},
		Hook:        "auto",
		StartTimes:  StartTimesAuto,
		Config:      slowevent.DefaultConfig(),
		Attribution: cgroup.Default(),
	}
}

// Validate checks every key; errors name the key and the bad value.
func (c *Config) Validate() error {
	for _, g := range c.Devices {
		if isPath(g) {
			if _, err := os.Stat(g); err != nil {
				return fmt.Errorf("devices: path %q: %v", g, errors.Unwrap(err))
			}
			continue
		}
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("devices: bad glob %q: %v", g, err)
		}
	}
	if len(c.Stages) == 0 {
		return fmt.Errorf("stages: empty list (want %q and/or %q)", StageQueue, StageService)
	}
	for _, s := range c.Stages {
		if s != StageQueue && s != StageService {
			return fmt.Errorf("stages: unknown stage %q (want %q or %q)", s, StageQueue, StageService)
		}
	}
	if _, err := hooks.ParsePin(c.Hook, offeredHooks...); err != nil {
		return fmt.Errorf("hook: %v", err)
	}
	if !slices.Contains([]string{StartTimesAuto, StartTimesKernel, StartTimesProbe}, c.StartTimes) {
		return fmt.Errorf("start_times: unknown value %q (want %q, %q or %q)",
			c.StartTimes, StartTimesAuto, StartTimesKernel, StartTimesProbe)
	}
	if err := c.Attribution.Validate(); err != nil {
		return err
	}
	return c.Config.Validate()
}

func (c *Config) wantStage(s string) bool { return slices.Contains(c.Stages, s) }

// offeredHooks are the flavours the disk object carries, best first.
var offeredHooks = []hooks.Kind{hooks.TPBTF, hooks.RawTP, hooks.Tracepoint}

// pinnedHook is the flavour the config pins, or nil for auto.
func (c *Config) pinnedHook() *hooks.Kind {
	k, _ := hooks.ParsePin(c.Hook, offeredHooks...)
	return k
}

// isPath tells a path entry of devices from a glob: paths are absolute.
func isPath(device string) bool { return strings.HasPrefix(device, "/") }

// devicePaths are the path entries of devices.
func (c *Config) devicePaths() []string {
	var paths []string
	for _, d := range c.Devices {
		if isPath(d) {
			paths = append(paths, d)
		}
	}
	return paths
}

// wantDevice matches a device name against the globs (validated already)
// and the disks the path entries resolved to.
func (c *Config) wantDevice(name string, pathDisks map[string]bool) bool {
	if len(c.Devices) == 0 || pathDisks[name] {
		return true
	}
	for _, g := range c.Devices {
		if isPath(g) {
			continue
		}
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
