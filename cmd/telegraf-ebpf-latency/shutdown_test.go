package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// SIGTERM while telegraf has stopped reading stdout: the process exits
// promptly, dropping the unwritten gather (it stayed alive for minutes), and
// no eBPF program or link of it is left in the kernel.
func TestSigtermWithStdoutStalled(t *testing.T) {
	// Every kind of attachment: tracing links, a cgroup sock_ops link.
	config := filepath.Join(t.TempDir(), "plugin.conf")
	require.NoError(t, os.WriteFile(config, []byte("[[inputs.ebpf_latency]]\n  probes = [\"disk\", \"tcp_rtt\", \"syscall\", \"runq\"]\n"), 0o600))
	p := startPlugin(t, "-poll_interval", "100ms", "-config", config)
	// One page of pipe: a few gathers fill it, then the plugin's write blocks.
	_, err := unix.FcntlInt(p.stdout.Fd(), unix.F_SETPIPE_SZ, os.Getpagesize())
	require.NoError(t, err)
	waitPipeStalled(t, p.stdout)

	progs, links := bpfObjectIDs(t, p.cmd.Process.Pid)
	require.NotEmpty(t, progs, "the plugin holds eBPF programs")
	require.NotEmpty(t, links, "the plugin holds eBPF links")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	sent := time.Now()
	select {
	case err = <-p.exited:
		p.exited <- err
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM with stdout stalled")
	}
	took := time.Since(sent)
	t.Logf("exited %v after SIGTERM: %v; stderr: %s", took.Round(time.Millisecond), err, p.stderr.String())
	// The design is stallGrace (500ms) plus detaching; the bound is loose
	// for a busy machine: the bug was minutes.
	require.Less(t, took, 3*time.Second)
	var exitErr interface{ ExitCode() int }
	require.True(t, errors.As(err, &exitErr), "exit status: %v", err)
	require.Equal(t, 1, exitErr.ExitCode())
	require.Contains(t, p.stderr.String(), "stdout not read for 500ms after the stop signal: exiting, unwritten metrics dropped")

	// The kernel frees a program when its last reference goes; IDs are
	// released asynchronously, so allow a moment.
	deadline := time.Now().Add(5 * time.Second)
	for _, id := range progs {
		waitGone(t, deadline, "program", id, func(id uint32) (io.Closer, error) {
			return ebpf.NewProgramFromID(ebpf.ProgramID(id))
		})
	}
	for _, id := range links {
		waitGone(t, deadline, "link", id, func(id uint32) (io.Closer, error) {
			return link.NewFromID(link.ID(id))
		})
	}
	t.Logf("%d programs and %d links gone", len(progs), len(links))
}

// waitGone waits until the kernel object id can no longer be opened.
func waitGone(t *testing.T, deadline time.Time, kind string, id uint32, open func(uint32) (io.Closer, error)) {
	t.Helper()
	for {
		obj, err := open(id)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err == nil {
			obj.Close()
		}
		require.True(t, time.Now().Before(deadline), "%s %d still in the kernel after exit (%v)", kind, id, err)
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPipeStalled waits until the pipe holds data that no longer grows:
// the writer is blocked.
func waitPipeStalled(t *testing.T, r *os.File) {
	t.Helper()
	last, since := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ) // FIONREAD: bytes unread
		require.NoError(t, err)
		if n != last {
			last, since = n, time.Now()
			continue
		}
		// 100ms polls: a second without growth means the write is stuck.
		if n > 0 && time.Since(since) > time.Second {
			t.Logf("stdout stalled with %d bytes unread", n)
			return
		}
	}
	t.Fatal("stdout never stalled")
}

// bpfObjectIDs lists the IDs of the eBPF programs and links the process
// holds, from its fdinfo.
func bpfObjectIDs(t *testing.T, pid int) (progs, links []uint32) {
	t.Helper()
	infos, err := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
	require.NoError(t, err)
	for _, path := range infos {
		f, err := os.Open(path)
		if err != nil {
			continue // an fd closed meanwhile
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() { // a link's fdinfo names its program too
			key, value, _ := strings.Cut(sc.Text(), ":")
			id, _ := strconv.ParseUint(strings.TrimSpace(value), 10, 32)
			switch key {
			case "link_id":
				links = append(links, uint32(id))
			case "prog_id":
				progs = append(progs, uint32(id))
			}
		}
		f.Close()
	}
	slices.Sort(progs)
	return slices.Compact(progs), links
}
