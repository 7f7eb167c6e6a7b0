//go:build linux

// Package captest reruns one test of the running test binary as an
// unprivileged user holding exactly the given capabilities, so a test can
// see what the kernel refuses without the others, and what it allows.
package captest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

const childEnv = "EBPF_LATENCY_CAPTEST_CHILD"

// Nobody is the unprivileged user the child runs as.
const Nobody = 65534

// InChild tells whether this process is the rerun: the test then does its
// unprivileged part instead of starting another child.
func InChild() bool { return os.Getenv(childEnv) == "1" }

// Run reruns the test t as user nobody with caps as its only (ambient)
// capabilities, fails t if the rerun fails, and returns its output. Only
// root can start it; env adds variables for the child.
func Run(t testing.TB, caps []kernel.Capability, env ...string) string {
	t.Helper()
	RequireRoot(t, "runs a test as nobody with chosen capabilities")
	dir := ReadableDir(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(self))
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	ambient := make([]uintptr, len(caps))
	for i, c := range caps {
		ambient[i] = uintptr(c.Bit)
	}
	name := strings.SplitN(t.Name(), "/", 2)[0]
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: Nobody, Gid: Nobody},
		AmbientCaps: ambient,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unprivileged rerun with %v failed: %v\n%s", names(caps), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("unprivileged rerun with %v did not run %s:\n%s", names(caps), name, out)
	}
	return string(out)
}

// RequireRoot skips t when not root, or fails it under
// EBPF_LATENCY_REQUIRE_PRIVILEGED=1 (CI); why says what needs root.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("EBPF_LATENCY_REQUIRE_PRIVILEGED") == "1" {
		t.Fatal("needs root: " + why)
	}
	t.Skip("needs root: " + why)
}

// ReadableDir is a temporary directory nobody can read and enter.
func ReadableDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "captest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func names(caps []kernel.Capability) []string {
	n := make([]string, len(caps))
	for i, c := range caps {
		n[i] = c.Name
	}
	return n
}
