package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// selfLine ends every gather of the plugin: its self-metric.
	selfLine       = "ebpf_latency_probe,"
	gatherTimeout  = 30 * time.Second
	binExitTimeout = 20 * time.Second
)

// Memory is a process's resident set as /proc/PID/status reports it.
type Memory struct {
	RSSKiB, HWMKiB uint64
	Gathers        int
	Lines          int // line-protocol lines the gathers printed
}

// BuildPlugin builds the plugin binary into a temporary directory.
func BuildPlugin(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "telegraf-ebpf-latency")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", bin,
		"github.com/ebpf-latency/telegraf-ebpf-latency/cmd/telegraf-ebpf-latency")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// MeasureMemory runs bin on its default config, gathering once per stdin
// line, pause apart while load runs, then reads VmRSS and VmHWM.
func MeasureMemory(t testing.TB, bin string, gathers int, pause time.Duration) Memory {
	t.Helper()
	p := StartPlugin(t, bin)
	m := Memory{Gathers: gathers}
	for i := 0; i < gathers; i++ {
		time.Sleep(pause)
		m.Lines += p.Gather(t).Lines
	}
	m.RSSKiB, m.HWMKiB = p.Memory(t)
	p.Stop()
	return m
}

// PluginProcess is the plugin binary run as telegraf's execd runs it:
// -poll_interval_disabled, one gather per line on stdin.
type PluginProcess struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   strings.Builder
	exited   chan error
	gathered chan GatherOutput
	stopped  bool
}

// GatherOutput is what one gather wrote to stdout.
type GatherOutput struct {
	Lines int
	Took  time.Duration // from the stdin line to the last byte of the gather
	sent  time.Time
	ended time.Time
}

// StartPlugin starts bin with args and -poll_interval_disabled; Stop (also
// at cleanup) closes its stdin and waits for it, killing it by PID if it
// does not exit.
func StartPlugin(t testing.TB, bin string, args ...string) *PluginProcess {
	t.Helper()
	p := &PluginProcess{exited: make(chan error, 1), gathered: make(chan GatherOutput, 1024)}
	p.cmd = exec.Command(bin, append([]string{"-poll_interval_disabled"}, args...)...)
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	done := make(chan struct{}) // stdout drained: Wait may close the pipe
	go func() {
		defer close(done)
		splitGathers(stdout, p.gathered)
	}()
	go func() { <-done; p.exited <- p.cmd.Wait() }()
	t.Cleanup(p.Stop)
	return p
}

// Gather writes one line to stdin and waits for the gather's last line.
func (p *PluginProcess) Gather(t testing.TB) GatherOutput {
	t.Helper()
	sent := time.Now()
	if _, err := io.WriteString(p.stdin, "\n"); err != nil {
		t.Fatalf("writing stdin: %v\nstderr:\n%s", err, p.stderr.String())
	}
	select {
	case g := <-p.gathered:
		g.Took = g.ended.Sub(sent)
		return g
	case <-time.After(gatherTimeout):
		t.Fatalf("no %s line within %v\nstderr:\n%s", selfLine, gatherTimeout, p.stderr.String())
	}
	return GatherOutput{}
}

// Memory reads the process's VmRSS and VmHWM in KiB.
func (p *PluginProcess) Memory(t testing.TB) (rss, hwm uint64) {
	t.Helper()
	rss, hwm, err := readStatusKiB(p.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return rss, hwm
}

// Pid is the plugin's process ID.
func (p *PluginProcess) Pid() int { return p.cmd.Process.Pid }

// Stop closes stdin (the shim stops the plugin and exits) and waits.
func (p *PluginProcess) Stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(binExitTimeout):
		_ = stopByPID(p.cmd, p.exited, syscall.SIGKILL, binExitTimeout)
	}
}

// splitGathers reads the plugin's stdout in large blocks and reports each
// gather when its self-metric line (the last of a gather) has arrived whole.
// It counts lines by their newlines and finds the self line by its prefix
// after a newline, so the reader keeps up with tens of MB per gather.
func splitGathers(stdout io.Reader, gathered chan<- GatherOutput) {
	marker := []byte("\n" + selfLine)
	buf := make([]byte, 1<<20)
	tail := []byte{'\n'} // the last bytes before data (counted): a gather starts after a newline
	lines, inSelf := 0, false
	for {
		n, err := stdout.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			if inSelf { // the self line's prefix has arrived; its newline ends the gather
				end := bytes.IndexByte(data, '\n')
				if end < 0 {
					break
				}
				gathered <- GatherOutput{Lines: lines + 1, ended: time.Now()}
				data, lines, inSelf, tail = data[end+1:], 0, false, []byte{'\n'}
				continue
			}
			start := -1
			window := append(slices.Clone(tail), data[:min(len(data), len(marker)-1)]...)
			if at := bytes.Index(window, marker); at >= 0 {
				start = max(at+1-len(tail), 0)
			} else if at := bytes.Index(data, marker); at >= 0 {
				start = at + 1
			}
			if start < 0 {
				lines += bytes.Count(data, []byte{'\n'})
				tail = append(tail, data[max(len(data)-len(marker), 0):]...)
				tail = slices.Clone(tail[max(len(tail)-len(marker), 0):])
				break
			}
			lines += bytes.Count(data[:start], []byte{'\n'})
			data, inSelf = data[start:], true
		}
		if err != nil {
			return
		}
	}
}

func readStatusKiB(pid int) (rss, hwm uint64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, err = strconv.ParseUint(f[1], 10, 64)
		case "VmHWM:":
			hwm, err = strconv.ParseUint(f[1], 10, 64)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return rss, hwm, nil
}

// Background runs fio (time-bounded) as load and stops it by PID.
func Background(t testing.TB, device string, size int64) func() {
	t.Helper()
	cmd := exec.Command("fio", "--name=load", "--filename="+device, "--rw=randread", "--bs=4k",
		"--direct=1", "--ioengine=psync", "--size="+strconv.FormatInt(size, 10),
		"--time_based", "--runtime=600", "--invalidate=0", "--output=/dev/null")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting fio: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = stopByPID(cmd, exited, syscall.SIGTERM, binExitTimeout)
		}
	}
	t.Cleanup(stop)
	return stop
}
