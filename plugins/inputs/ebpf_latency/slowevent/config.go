// Package slowevent carries slow events, shared by every probe: operations
// slower than a probe's slow_threshold, sent one by one from the kernel
// through a BPF ring buffer (bpf/headers/slow_event.bpf.h), rate-limited
// there, and emitted as ebpf_latency_slow_event lines beside the histograms.
package slowevent

import (
	"fmt"
	"time"
)

// Config holds the keys every probe table with slow events has; probes
// embed it.
type Config struct {
	// Threshold ("50ms"): operations at least this slow also become
	// events. Empty: no events.
	Threshold string `toml:"slow_threshold"`
	// PerSecond caps the events sent (a token bucket in the kernel, with a
	// burst of one second's worth); the rest are counted as dropped.
	PerSecond int `toml:"slow_events_per_second"`
}

// DefaultPerSecond is slow_events_per_second when the table leaves it out.
const DefaultPerSecond = 100

// maxPerSecond bounds the rate so the ring buffer stays small.
const maxPerSecond = 100000

// DefaultConfig has events off and the default rate.
func DefaultConfig() Config { return Config{PerSecond: DefaultPerSecond} }

// Validate names the key and the value it refuses.
func (c *Config) Validate() error {
	if c.Threshold != "" {
		d, err := time.ParseDuration(c.Threshold)
		if err != nil {
			return fmt.Errorf("slow_threshold: %q is not a duration (e.g. \"50ms\")", c.Threshold)
		}
		if d <= 0 {
			return fmt.Errorf("slow_threshold: %q must be positive", c.Threshold)
		}
	}
	if c.PerSecond < 1 || c.PerSecond > maxPerSecond {
		return fmt.Errorf("slow_events_per_second: %d is out of range (want 1..%d)", c.PerSecond, maxPerSecond)
	}
	return nil
}

// On says whether slow events are wanted.
func (c *Config) On() bool { return c.threshold() > 0 }

func (c *Config) threshold() time.Duration {
	d, _ := time.ParseDuration(c.Threshold)
	return d
}

// Describe completes a probe's start log line: "" when events are off.
func (c *Config) Describe() string {
	if !c.On() {
		return ""
	}
	return fmt.Sprintf(", slow events over %s (at most %d/s)", c.threshold(), c.PerSecond)
}
