package testenv

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// Piped is a helper process a test drives line by line through its stdin
// and stdout; its stderr goes to the test's. It is killed by PID at test end.
type Piped struct {
	Pid int
	In  io.WriteCloser
	Out *bufio.Reader
}

// StartPiped starts cmd with pipes to its stdin and stdout.
func StartPiped(t testing.TB, cmd *exec.Cmd) *Piped {
	t.Helper()
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &Piped{Pid: cmd.Process.Pid, In: in, Out: bufio.NewReader(out)}
}
