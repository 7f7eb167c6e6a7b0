package funcprobe

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

//go:embed testdata/worker.c
var workerSource []byte

// buildWorker compiles testdata/worker.c (-O0 -g: do_work stays a real,
// named function) into the test's temporary directory.
func buildWorker(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "worker.c")
	require.NoError(t, os.WriteFile(src, workerSource, 0o644))
	bin := filepath.Join(dir, "worker")
	out, err := exec.Command("gcc", "-O0", "-g", "-Wall", "-pthread", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return bin
}

// worker is a started workload, blocked until run sends its line.
type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

func startWorker(t *testing.T, bin string, args ...string) *worker {
	t.Helper()
	return startWorkerCmd(t, exec.Command(bin, args...))
}

// startWorkerIn is startWorker inside cgroup cg.
func startWorkerIn(t *testing.T, cg *testenv.Cgroup, bin string, args ...string) *worker {
	t.Helper()
	return startWorkerCmd(t, cg.Enter(exec.Command(bin, args...)))
}

func startWorkerCmd(t *testing.T, cmd *exec.Cmd) *worker {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	w := &worker{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill() // by PID; a no-op once it has exited
			cmd.Wait()
		}
	})
	// Once it says ready, its libraries are mapped and it waits for us.
	w.await(t, "ready")
	return w
}

// await reads the worker's next line, which must be want.
func (w *worker) await(t *testing.T, want string) {
	t.Helper()
	line, err := w.stdout.ReadString('\n')
	require.NoError(t, err, "worker %v", w.cmd.Args)
	require.Equal(t, want+"\n", line)
}

// release sends the worker its line without waiting for it.
func (w *worker) release(t *testing.T) {
	t.Helper()
	_, err := io.WriteString(w.stdin, "go\n")
	require.NoError(t, err)
}

func (w *worker) pid() int { return w.cmd.Process.Pid }

// run releases the worker and waits for it to finish its mode.
func (w *worker) run(t *testing.T) {
	t.Helper()
	w.release(t)
	require.NoError(t, w.stdin.Close())
	require.NoError(t, w.cmd.Wait(), "worker %v", w.cmd.Args)
}

// libcOf finds the C library a running process mapped, as a path.
func libcOf(t *testing.T, pid int) string {
	t.Helper()
	maps, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "maps"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && strings.Contains(filepath.Base(f[5]), "libc.so") {
			return f[5]
		}
	}
	t.Fatalf("no libc in /proc/%d/maps", pid)
	return ""
}

// buildFunctions compiles a program of n functions f0..f(n-1), never
// called while probed: only their symbols are needed.
func buildFunctions(t *testing.T, n int) string {
	t.Helper()
	var src strings.Builder
	for i := range n {
		fmt.Fprintf(&src, "void f%d(void) {}\n", i)
	}
	src.WriteString("int main(void) { return 0; }\n")
	dir := t.TempDir()
	path := filepath.Join(dir, "functions.c")
	require.NoError(t, os.WriteFile(path, []byte(src.String()), 0o644))
	bin := filepath.Join(dir, "functions")
	out, err := exec.Command("gcc", "-O0", "-o", bin, path).CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return bin
}
