//go:build linux

// Package testenv provides helpers for the privileged integration tests of
// the eBPF disk-latency probe: root checks, scratch tmpfs mounts, loop
// devices attached with raw ioctls, O_DIRECT I/O issuers and a FUSE-backed
// file with injected latency. Every resource is released via t.Cleanup.
package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// RequirePrivilegedEnv, when set to "1", turns the root-check skip into a
// failure, so that CI can never count a skipped privileged test as passing.
const RequirePrivilegedEnv = "EBPF_LATENCY_REQUIRE_PRIVILEGED"

const privilegedReason = "needs root: loads eBPF programs and creates loop devices"

// RequirePrivileged skips the test unless it runs as root, or fails it if
// EBPF_LATENCY_REQUIRE_PRIVILEGED=1.
func RequirePrivileged(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(RequirePrivilegedEnv) == "1" {
		t.Fatal(privilegedReason)
	}
	t.Skip(privilegedReason)
}

// TmpfsDir mounts a fresh 256 MiB tmpfs on a new directory and returns it.
// It is unmounted when the test finishes.
func TmpfsDir(t testing.TB) string {
	t.Helper()
	// t.TempDir registers its own removal first, so (LIFO) it runs after
	// the unmount registered below.
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256m,mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { unmount(t, dir) })
	return dir
}

// unmount unmounts dir, falling back to a lazy detach if it is busy.
func unmount(t testing.TB, dir string) {
	t.Helper()
	err := unix.Unmount(dir, 0)
	if err == nil {
		return
	}
	if err2 := unix.Unmount(dir, unix.MNT_DETACH); err2 != nil {
		t.Errorf("unmount %s: %v; lazy unmount: %v", dir, err, err2)
		return
	}
	t.Logf("unmount %s: %v; detached lazily", dir, err)
}
