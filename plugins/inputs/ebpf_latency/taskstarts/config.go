// Package taskstarts is the user-space side of bpf/headers/task_starts.bpf.h:
// where a probe keeps its per-thread start records (task-local storage, or a
// hash of the threads in flight on kernels or hooks without it), the
// `start_times` key that pins the choice, and the counters of records lost.
package taskstarts

import "fmt"

// Values of `start_times`.
const (
	// Auto picks task storage where the kernel and the hook allow it,
	// else the hash.
	Auto = "auto"
	// TaskStorage insists on task storage; the probe fails to start
	// without it.
	TaskStorage = "task_storage"
	// Hash keeps records in a hash keyed by thread id (the fallback).
	Hash = "hash"
)

// Setting is the `start_times` key of the probes with per-thread start
// records; probes embed it.
type Setting struct {
	// StartTimes says where start records live: "auto", "task_storage"
	// or "hash".
	StartTimes string `toml:"start_times"`
}

// DefaultSetting picks the best store that works.
func DefaultSetting() Setting { return Setting{StartTimes: Auto} }

// Validate names the key and the value it refuses.
func (c *Setting) Validate() error {
	switch c.StartTimes {
	case Auto, TaskStorage, Hash:
		return nil
	}
	return fmt.Errorf("start_times: unknown value %q (want %q, %q or %q)", c.StartTimes, Auto, TaskStorage, Hash)
}

// Counter names in the probe's self-metrics.
const (
	// CounterFull counts records not kept because the hash was full: the
	// operation they would have timed is not measured.
	CounterFull = "start_full"
	// CounterRefused counts records task storage did not give (no memory,
	// or the storage busy on that CPU): not measured either.
	CounterRefused = "start_refused"
)
