package runq

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/commglob"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// server is a runqhelper in serve mode: pinned to a CPU, named from exec
// on, sleeping rounds on request and blocked in between, so the kernel's own
// count of its switch-ins can be read while it holds still.
type server struct{ *testenv.Piped }

// uniqueComm is a comm of this test run only: prefix, '-', four hex digits.
func uniqueComm(prefix string) string {
	comm := fmt.Sprintf("%s-%04x", prefix, rand.IntN(1<<16))
	if len(comm) > commglob.CommLen {
		panic(comm + " is longer than a comm")
	}
	return comm
}

// startServer runs runqhelper through a symlink named comm, so the task has
// that comm from its first switch-in on, and returns once it is blocked
// waiting for a request; it is killed by PID at test end.
func startServer(t *testing.T, comm string, cpu int, usec int) *server {
	t.Helper()
	return startServerIn(t, comm, cpu, usec, nil)
}

// startServerIn is startServer inside cgroup cg (nil: the test's own).
func startServerIn(t *testing.T, comm string, cpu int, usec int, cg *testenv.Cgroup) *server {
	t.Helper()
	return startNamed(t, comm, cg, "serve", strconv.Itoa(cpu), strconv.Itoa(usec))
}

// startNamed runs runqhelper with args (a mode that says "ready", then
// blocks reading stdin) as startServerIn does.
func startNamed(t *testing.T, comm string, cg *testenv.Cgroup, args ...string) *server {
	t.Helper()
	requireHelper(t)
	link := filepath.Join(t.TempDir(), comm)
	require.NoError(t, os.Symlink(helperBin, link))
	cmd := exec.Command(link, args...)
	if cg != nil {
		cg.Enter(cmd)
	}
	s := &server{testenv.StartPiped(t, cmd)}
	s.expect(t, "ready")
	// Blocked in its read before the caller goes on (a probe started
	// next sees no switch-in of it until the first request).
	s.switchIns(t)
	return s
}

func (s *server) expect(t *testing.T, word string) {
	t.Helper()
	line, err := s.Out.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, word+"\n", line)
}

// sleep has the server sleep n times and waits for it to say it is done.
func (s *server) sleep(t *testing.T, n int) {
	t.Helper()
	s.request(t, strconv.Itoa(n))
}

// request sends the helper one line and waits for it to say it is done.
func (s *server) request(t *testing.T, line string) {
	t.Helper()
	_, err := fmt.Fprintln(s.In, line)
	require.NoError(t, err)
	s.expect(t, "done")
}

// switchIns is the kernel's count of the server's switch-ins so far, read
// once the server is blocked waiting for its next request. The kernel
// counts switch-outs (voluntary_ctxt_switches + nonvoluntary_ctxt_switches
// in /proc/PID/status, bumped beside the sched_switch tracepoint); between
// two moments the server is blocked, every switch-in is paired with one.
// (schedstat's pcount is not used: on 6.18 it sometimes counts an arrival
// no sched_switch reports.)
func (s *server) switchIns(t *testing.T) uint64 {
	t.Helper()
	proc := fmt.Sprintf("/proc/%d/", s.Pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		stat, err := os.ReadFile(proc + "stat")
		require.NoError(t, err)
		// pid (comm) STATE ...: the comm may hold anything, the last ')' ends it.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if fields[0] == "S" {
			break
		}
		require.True(t, time.Now().Before(deadline), "server %d never blocked (state %s)", s.Pid, fields[0])
		time.Sleep(time.Millisecond)
	}
	status, err := os.ReadFile(proc + "status")
	require.NoError(t, err)
	var switches uint64
	found := 0
	for _, line := range strings.Split(string(status), "\n") {
		key, value, _ := strings.Cut(line, ":")
		if key == "voluntary_ctxt_switches" || key == "nonvoluntary_ctxt_switches" {
			n, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
			require.NoError(t, err, "%s", line)
			switches += n
			found++
		}
	}
	require.Equal(t, 2, found, "context switch counts in %sstatus", proc)
	return switches
}
