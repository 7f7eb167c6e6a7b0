//go:build linux

package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// Cgroup is a cgroup v2 directory a test made under the cgroup2 root (on
// hybrid hosts the unified mount). At test end the processes still in it
// are killed by PID and the directory is removed.
type Cgroup struct {
	Dir  string // on the mount, e.g. /sys/fs/cgroup/unified/tc1234_1
	Path string // from the cgroup2 root, e.g. /tc1234_1: the cgroup tag of a top-level cgroup
	ID   uint64 // cgroup v2 id: the directory's inode, bpf_get_current_cgroup_id()
	fd   int    // the open directory, for CLONE_INTO_CGROUP
}

// NewCgroup makes a fresh cgroup under the cgroup2 root.
func NewCgroup(t testing.TB) *Cgroup {
	t.Helper()
	return NewCgroupAt(t, "/"+uniqueName("tc"))
}

// NewCgroupAt makes a cgroup at path (from the cgroup2 root, its parent
// existing): after Remove, a new cgroup at the same path, as systemd makes
// for a restarted service.
func NewCgroupAt(t testing.TB, path string) *Cgroup {
	t.Helper()
	root, err := kernel.Cgroup2Mount()
	require.NoError(t, err)
	c := &Cgroup{Dir: filepath.Join(root, path), Path: path}
	require.NoError(t, os.Mkdir(c.Dir, 0o755))
	c.fd, err = unix.Open(c.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = os.Remove(c.Dir)
		t.Fatalf("opening %s: %v", c.Dir, err)
	}
	t.Cleanup(func() { c.Remove(t) })
	var st unix.Stat_t
	require.NoError(t, unix.Fstat(c.fd, &st))
	c.ID = st.Ino
	return c
}

// Enter makes cmd start directly inside the cgroup (clone3 with
// CLONE_INTO_CGROUP, Linux 5.7+): none of its syscalls run elsewhere.
func (c *Cgroup) Enter(cmd *exec.Cmd) *exec.Cmd {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, c.fd
	return cmd
}

// Pids lists the processes in the cgroup.
func (c *Cgroup) Pids(t testing.TB) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Dir, "cgroup.procs"))
	require.NoError(t, err)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	return pids
}

// Remove kills what is left inside by PID, then removes the directory
// (rmdir fails while a task is inside; a dying one leaves within moments).
// Test end calls it too; a second call does nothing.
func (c *Cgroup) Remove(t testing.TB) {
	t.Helper()
	if c.fd < 0 {
		return
	}
	defer func() { unix.Close(c.fd); c.fd = -1 }()
	for _, pid := range c.Pids(t) {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := unix.Rmdir(c.Dir)
		if err == nil {
			return
		}
		if err != unix.EBUSY || time.Now().After(deadline) {
			t.Errorf("removing cgroup %s: %v (processes %v)", c.Dir, err, c.Pids(t))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
