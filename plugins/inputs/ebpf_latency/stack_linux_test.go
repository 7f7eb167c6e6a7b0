//go:build linux

package ebpf_latency_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// What the end-to-end tests share: the plugin built from source, a disk
// config for one device, telegraf running telegraf.conf.example, and the
// backends they write to, each a process of its own ended by PID.

// buildPlugin builds the binary into dir; exe is the path /proc/PID/exe shows.
func buildPlugin(t *testing.T, dir string) (bin, exe string) {
	t.Helper()
	bin = filepath.Join(dir, "telegraf-ebpf-latency")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/telegraf-ebpf-latency").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	exe, err := filepath.EvalSymlinks(bin)
	require.NoError(t, err)
	return bin, exe
}

// writeDiskConfig writes a plugin config measuring only device; with
// tcpPorts, tcp_connect and tcp_retransmits watch those ports too.
func writeDiskConfig(t *testing.T, dir, device string, tcpPorts ...int) string {
	t.Helper()
	path := filepath.Join(dir, "telegraf-ebpf-latency.conf")
	conf := fmt.Sprintf("[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  [inputs.ebpf_latency.disk]\n    devices = [%q]\n", device)
	if len(tcpPorts) > 0 {
		ports := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(tcpPorts)), ", "), "[]")
		conf = strings.Replace(conf, `["disk"]`, `["disk", "tcp_connect", "tcp_retransmits"]`, 1) +
			fmt.Sprintf("  [inputs.ebpf_latency.tcp]\n    ports = [%s]\n", ports)
	}
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
	return path
}

// waitProbeUp waits for the disk probe's self-metric to say up: I/O issued
// before the probe attaches goes unseen.
func waitProbeUp(t *testing.T, tg *telegrafProcess, output string) string {
	t.Helper()
	return waitOutput(t, tg, output, startTimeout, func(points []point) (bool, string) {
		for _, p := range slices.Backward(points) {
			if p.name == "ebpf_latency_probe" && p.tags["probe"] == "disk" {
				return p.fields["up"] == "1i", p.raw
			}
		}
		return false, "no ebpf_latency_probe line"
	})
}

// stack is telegraf running the plugin on one device, writing to a file
// (as telegraf.conf.example does) and to any extra outputs.
type stack struct {
	tg     *telegrafProcess
	output string // the file output
}

func startStack(t *testing.T, telegraf, device, extraOutputs string, tcpPorts ...int) *stack {
	t.Helper()
	return startStackWith(t, telegraf, func(dir string) string { return writeDiskConfig(t, dir, device, tcpPorts...) }, extraOutputs)
}

// startStackWith is startStack with the plugin's config written by
// pluginConf (into dir, returning its path); it must include the disk probe.
func startStackWith(t *testing.T, telegraf string, pluginConf func(dir string) string, extraOutputs string) *stack {
	t.Helper()
	dir := t.TempDir()
	bin, exe := buildPlugin(t, dir)
	output := filepath.Join(dir, "metrics.out")
	conf := string(deriveConfig(t, bin, pluginConf(dir), output)) + extraOutputs
	telegrafConf := filepath.Join(dir, "telegraf.conf")
	require.NoError(t, os.WriteFile(telegrafConf, []byte(conf), 0o600))
	tg := startTelegraf(t, telegraf, telegrafConf, filepath.Join(dir, "telegraf.log"))
	t.Cleanup(func() { killLeftovers(t, exe) })
	waitProbeUp(t, tg, output)
	return &stack{tg: tg, output: output}
}

// startService runs a backend in its own process group, logging to
// dir/<name>.log (shown if the test fails), and ends it by PID.
func startService(t *testing.T, dir, name string, cmd *exec.Cmd) {
	t.Helper()
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logFile.Name())
			t.Logf("%s output:\n%s", name, out)
		}
	})
}

// waitValue repeats a one-value query until ok holds (30 s at most).
func waitValue(t *testing.T, what string, try func() (float64, error), ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := try()
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: last value %v, error %v", what, v, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// findCommand finds a program on PATH; without it the test skips, or fails
// under EBPF_LATENCY_REQUIRE_PRIVILEGED=1.
func findCommand(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("no %s on PATH (%s)", name, install)
	if os.Getenv(testenv.RequirePrivilegedEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
