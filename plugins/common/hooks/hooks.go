// Package hooks attaches a probe through the first hook flavour that works.
//
// A probe's object carries each program in several flavours (tp_btf, raw_tp,
// classic tracepoint). A probe lists its flavours best first; Attach walks the
// list, drops the other flavours' programs before load (so a program the
// kernel would refuse never reaches the verifier), loads, attaches, and
// reports the winner and why each earlier flavour lost.
package hooks

import (
	"fmt"
	"strings"
)

// Kind is a hook flavour.
type Kind int

// The tracing flavours, best first: tp_btf reads typed arguments directly;
// raw_tp needs probe-read helpers; classic tracepoints pass only the
// formatted record. SockOps programs attach to a cgroup v2 directory.
// Uprobe programs are loaded here but attached by their probe, one link per
// configured function, so that one bad function fails alone (Attached.Keep);
// UprobeMulti programs likewise, through uprobe_multi links (Linux 6.6+).
const (
	TPBTF Kind = iota
	RawTP
	Tracepoint
	SockOps
	Uprobe
	UprobeMulti
)

var kindNames = []string{"tp_btf", "raw_tp", "tracepoint", "sock_ops", "uprobe", "uprobe_multi"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseKind reads a flavour name as written in the config.
func ParseKind(name string) (Kind, error) {
	for i, n := range kindNames {
		if n == name {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown hook %q (want %s)", name, strings.Join(kindNames, ", "))
}

// ParsePin reads a config `hook` value: "auto" (nil) or one of offered.
func ParsePin(name string, offered ...Kind) (*Kind, error) {
	if name == "auto" {
		return nil, nil
	}
	names := []string{`"auto"`}
	for _, k := range offered {
		if k.String() == name {
			return &k, nil
		}
		names = append(names, fmt.Sprintf("%q", k.String()))
	}
	return nil, fmt.Errorf("unknown hook %q (want %s)", name, strings.Join(names, ", "))
}

// Hook binds one program of the object to one kernel event.
type Hook struct {
	Program string // program name in the CollectionSpec
	Group   string // tracepoint group, e.g. "block"
	Event   string // tracepoint name, e.g. "block_rq_complete"
	Cgroup  string // cgroup v2 directory (SockOps)
}

// Flavour is one way to attach a whole probe: all of its hooks, or none.
type Flavour struct {
	Kind  Kind
	Hooks []Hook
}

// Attempt records why a flavour was passed over.
type Attempt struct {
	Kind Kind
	Err  error
}

func (a Attempt) String() string { return fmt.Sprintf("%s: %v", a.Kind, a.Err) }

// AttemptsError is why every flavour failed, in order; it unwraps to each
// reason, so a missing capability stays recognisable.
type AttemptsError []Attempt

func (e AttemptsError) Error() string { return describeAttempts(e) }

func (e AttemptsError) Unwrap() []error {
	errs := make([]error, len(e))
	for i, a := range e {
		errs[i] = a.Err
	}
	return errs
}

func describeAttempts(attempts []Attempt) string {
	parts := make([]string, len(attempts))
	for i, a := range attempts {
		parts[i] = a.String()
	}
	return strings.Join(parts, "; ")
}
