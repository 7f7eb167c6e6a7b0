package syscall

import (
	"fmt"
	"slices"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/commglob"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// Config is the [inputs.ebpf_latency.syscall] table.
type Config struct {
	// Syscalls to time, by name (this machine's architecture's table).
	Syscalls []string `toml:"syscalls"`
	// Comms are globs on the task comm (15 characters); empty means all.
	Comms []string `toml:"comms"`
	// Pids are thread-group IDs (process IDs) to watch; empty means all.
	Pids []int `toml:"pids"`
	// MaxComms bounds the comm tag: later comms fold into comm="other".
	MaxComms int `toml:"max_comms"`
	// Hook pins the hook flavour: "auto", "tp_btf" or "raw_tp".
	Hook string `toml:"hook"`

	// Buckets overrides the plugin-wide bucket scheme for this probe.
	histogram.TableBuckets
	// Slow events: slow_threshold, slow_events_per_second.
	slowevent.Config
	// By cgroup: by_cgroup, cgroups, max_cgroups.
	cgroup.Attribution
	// Where start times live: start_times.
	taskstarts.Setting
}

// Hook names as written in the config.
const (
	HookAuto  = "auto"
	HookTPBTF = "tp_btf"
	HookRawTP = "raw_tp"
)

// Bounds of the config values.
const (
	maxMaxComms = 4096
	pidMax      = 1 << 22 // PID_MAX_LIMIT on 64-bit kernels
)

// DefaultConfig times the syscalls a durability-minded writer waits in.
func DefaultConfig() *Config {
	return &Config{
		Syscalls: []string{
			"fsync", "fdatasync", "sync_file_range", "pwrite64", "pwritev",
			"io_submit", "io_getevents", "io_uring_enter", "sendmsg", "recvmsg",
		},
		MaxComms:    64,
		Hook:        HookAuto,
		Config:      slowevent.DefaultConfig(),
		Attribution: cgroup.Default(),
		Setting:     taskstarts.DefaultSetting(),
	}
}

// Validate checks every key; errors name the key and the bad value.
func (c *Config) Validate() error {
	if len(c.Syscalls) == 0 {
		return fmt.Errorf("syscalls: empty list")
	}
	for i, name := range c.Syscalls {
		nr, err := lookupSyscall(name)
		if err != nil {
			return fmt.Errorf("syscalls: %v", err)
		}
		if nr >= slots {
			return fmt.Errorf("syscalls: %q is number %d, beyond the probe's %d", name, nr, slots)
		}
		if name == "exit" || name == "exit_group" {
			// A record that is never consumed could be taken by a later
			// thread reusing the ID.
			return fmt.Errorf("syscalls: %q never returns: it has no latency", name)
		}
		if slices.Index(c.Syscalls, name) != i {
			return fmt.Errorf("syscalls: %q listed twice", name)
		}
	}
	if _, err := commglob.Compile(c.Comms); err != nil {
		return fmt.Errorf("comms: %v", err)
	}
	for _, pid := range c.Pids {
		if pid <= 0 || pid > pidMax {
			return fmt.Errorf("pids: %d is not a process ID (want 1 to %d)", pid, pidMax)
		}
	}
	if c.MaxComms < 1 || c.MaxComms > maxMaxComms {
		return fmt.Errorf("max_comms: %d out of range (want 1 to %d)", c.MaxComms, maxMaxComms)
	}
	if !slices.Contains([]string{HookAuto, HookTPBTF, HookRawTP}, c.Hook) {
		return fmt.Errorf("hook: unknown hook %q (want %q, %q or %q)", c.Hook, HookAuto, HookTPBTF, HookRawTP)
	}
	if err := c.Attribution.Validate(); err != nil {
		return err
	}
	if err := c.Setting.Validate(); err != nil {
		return err
	}
	return c.Config.Validate()
}

// numbers maps each configured syscall's number to its name (validated already).
func (c *Config) numbers() map[uint32]string {
	m := make(map[uint32]string, len(c.Syscalls))
	for _, name := range c.Syscalls {
		nr, _ := lookupSyscall(name)
		m[nr] = name
	}
	return m
}
