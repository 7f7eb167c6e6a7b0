//go:build !linux

package kernel

import "errors"

// ErrNotLinux is returned on every other OS: eBPF probes need Linux.
var ErrNotLinux = errors.New("eBPF probes need Linux")

// CheckPrerequisites always fails off Linux.
func CheckPrerequisites() error { return ErrNotLinux }
