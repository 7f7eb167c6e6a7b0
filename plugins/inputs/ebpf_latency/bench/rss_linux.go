package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
	cmd := exec.Command(bin, "-poll_interval_disabled")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{}) // stdout drained: Wait may close the pipe
	gathered := make(chan int, 1024)
	var lines int
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines++
			if strings.HasPrefix(sc.Text(), selfLine) {
				gathered <- 1
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { <-done; exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stdin.Close() // EOF: the shim stops the plugin and exits
		select {
		case <-exited:
		case <-time.After(binExitTimeout):
			_ = stopByPID(cmd, exited, syscall.SIGKILL, binExitTimeout)
		}
	}
	t.Cleanup(stop)

	m := Memory{Gathers: gathers}
	for i := 0; i < gathers; i++ {
		time.Sleep(pause)
		if _, err := io.WriteString(stdin, "\n"); err != nil {
			t.Fatalf("gather %d: writing stdin: %v\nstderr:\n%s", i, err, stderr.String())
		}
		select {
		case <-gathered:
		case <-time.After(gatherTimeout):
			t.Fatalf("gather %d: no %s line within %v", i, selfLine, gatherTimeout)
		}
	}
	m.RSSKiB, m.HWMKiB, err = readStatusKiB(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	m.Lines = lines
	return m
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
