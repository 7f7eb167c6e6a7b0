package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

const childEnv = "EBPF_LATENCY_PREREQ_CHILD"

// Run as an unprivileged user, the check must name the missing capabilities.
func TestMissingCapabilitiesAreNamed(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		err := CheckPrerequisites()
		if err != nil {
			os.Stdout.WriteString(err.Error())
		}
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		if os.Getenv("EBPF_LATENCY_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal("needs root to run a child as nobody")
		}
		t.Skip("needs root to run a child as nobody")
	}
	// The go test binary sits in a root-only directory: copy it where nobody can run it.
	self, err := os.Executable()
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "prereq")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "prereq.test")
	data, err := os.ReadFile(self)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))

	cmd := exec.Command(bin, "-test.run=^TestMissingCapabilitiesAreNamed$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	msg := string(out)
	require.True(t, strings.HasPrefix(msg, "missing capability "), msg)
	if kernelAtLeast(5, 8) {
		require.Contains(t, msg, "CAP_BPF and CAP_PERFMON")
	} else {
		require.Contains(t, msg, "CAP_SYS_ADMIN")
	}
}

func TestTracepointArgs(t *testing.T) {
	if _, err := os.Stat(BTFPath); err != nil {
		t.Skip("no kernel BTF")
	}
	n, err := TracepointArgs("block_rq_complete")
	require.NoError(t, err)
	require.Equal(t, 3, n, "block_rq_complete(rq, error, nr_bytes)")
	_, err = TracepointArgs("no_such_tracepoint")
	require.Error(t, err)
	require.True(t, StructHasMember("request", "cmd_flags"))
	require.False(t, StructHasMember("request", "no_such_member"))
}
