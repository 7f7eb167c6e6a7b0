package syscall

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// runTag makes this test binary's comms its own: another run of these tests,
// or any other process, cannot add to their counts.
var runTag = fmt.Sprintf("eb%04x", rand.IntN(1<<16))

// uniq is a comm of this run: "eb1f2e-" + suffix (at most 8 characters).
func uniq(suffix string) string { return runTag + "-" + suffix }

// sysloopDir holds the compiled helper for the whole test binary; TestMain
// removes it.
var sysloop struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sysloop.dir != "" {
		os.RemoveAll(sysloop.dir)
	}
	os.Exit(code)
}

func sysloopBinary(t testing.TB) string {
	t.Helper()
	sysloop.once.Do(func() {
		sysloop.dir, sysloop.err = os.MkdirTemp("", "syscall-sysloop-")
		if sysloop.err != nil {
			return
		}
		bin := filepath.Join(sysloop.dir, "sysloop")
		out, err := exec.Command("gcc", "-O2", "-Wall", "-pthread", "-o", bin, "testdata/sysloop.c").CombinedOutput()
		if err != nil {
			sysloop.err = fmt.Errorf("gcc testdata/sysloop.c: %w\n%s", err, out)
			return
		}
		sysloop.bin = bin
	})
	require.NoError(t, sysloop.err)
	return sysloop.bin
}

// helper is one running sysloop process; it is killed (by PID) at test end.
type helper struct{ *testenv.Piped }

// startHelper runs sysloop named comm, syncing a file of its own.
func startHelper(t testing.TB, comm string) *helper {
	t.Helper()
	return startHelperOn(t, comm, filepath.Join(t.TempDir(), "data"))
}

// startHelperOn runs sysloop named comm on file.
func startHelperOn(t testing.TB, comm, file string) *helper {
	t.Helper()
	return startHelperCmd(t, exec.Command(sysloopBinary(t), comm, file))
}

// startHelperIn runs sysloop named comm inside cgroup cg from its start.
func startHelperIn(t testing.TB, comm string, cg *testenv.Cgroup) *helper {
	t.Helper()
	return startHelperCmd(t, cg.Enter(exec.Command(sysloopBinary(t), comm, filepath.Join(t.TempDir(), "data"))))
}

func startHelperCmd(t testing.TB, cmd *exec.Cmd) *helper {
	t.Helper()
	h := &helper{testenv.StartPiped(t, cmd)}
	h.do(t, "getpid 0") // named and ready
	return h
}

// send writes one command without waiting for it to finish.
func (h *helper) send(t testing.TB, format string, args ...any) {
	t.Helper()
	_, err := fmt.Fprintf(h.In, format+"\n", args...)
	require.NoError(t, err)
}

// wait reads the answer to the last command sent.
func (h *helper) wait(t testing.TB) {
	t.Helper()
	line, err := h.Out.ReadString('\n')
	require.NoError(t, err, "sysloop %d died", h.Pid)
	require.Equal(t, "ok", strings.TrimSpace(line))
}

// do runs one command to completion.
func (h *helper) do(t testing.TB, format string, args ...any) {
	t.Helper()
	h.send(t, format, args...)
	h.wait(t)
}
