//go:build linux

package testenv

import (
	"errors"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// AsNamedThread runs fn on one OS thread named name through
// prctl(PR_SET_NAME), any bytes at all (the kernel keeps the first 15), and
// gives the thread its old name back before it returns to the runtime.
func AsNamedThread(t testing.TB, name string, fn func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		// Sent whatever ends the goroutine: a require failing inside fn
		// calls runtime.Goexit here, which must fail the test, not hang it.
		err := errNamedThreadStopped
		defer func() { done <- err }()
		// Unlocked only once the old name is back: a goroutine that ends
		// locked takes its thread, odd name and all, with it.
		runtime.LockOSThread()
		var old [16]byte
		if err = unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0); err != nil {
			return
		}
		if err = setThreadName(name); err != nil {
			return
		}
		err = errNamedThreadStopped
		fn()
		if err = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	require.NoError(t, <-done, "running as a thread named %q", name)
}

// errNamedThreadStopped: fn did not return (runtime.Goexit, as a failing
// require inside it does); what failed is in the log above.
var errNamedThreadStopped = errors.New("the named thread stopped before fn returned")

func setThreadName(name string) error {
	buf := make([]byte, len(name)+1) // NUL-terminated; the kernel cuts at 15
	copy(buf, name)
	return unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&buf[0])), 0, 0, 0)
}

// OddComms are task names that once broke series identity: a trailing
// backslash, backslashes only, control bytes, bytes that are not UTF-8, the
// line protocol's separators, the fold series' name, and the empty name.
var OddComms = []string{
	"trail", `trail\`, `\\`, "a\tb", `a\tb`, "a\nb", "\xff\xfe", "a b,c=d", "other", "",
}
