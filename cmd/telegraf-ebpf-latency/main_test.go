package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testVersion is linked into the test binary the way the Makefile sets version.
const testVersion = "v0.0.0-test"

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds the command once for all tests of this package.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "telegraf-ebpf-latency-test"); buildErr != nil {
			return
		}
		bin := filepath.Join(buildDir, "telegraf-ebpf-latency")
		out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", bin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "telegraf-ebpf-latency")
}

// result is one finished run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

func runBinary(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// cmd.Stdin stays nil (/dev/null): a config accepted by mistake reaches
	// EOF and exits instead of hanging.
	cmd.WaitDelay = time.Second
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v still running after 20s; stderr: %s", args, stderr.String())
	}
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestConfigErrors(t *testing.T) {
	binary(t) // build before the subtests, so that a build failure fails once
	const table = "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  [inputs.ebpf_latency.disk]\n"
	tests := []struct {
		name   string
		config string // written to a file passed with -config; "" means no file
		want   []string
		wantRE string
	}{
		{
			name:   "unknown probe",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\", \"nope\"]\n",
			want:   []string{"inputs.ebpf_latency.probes", `"nope"`},
		},
		{
			name:   "typo key",
			config: table + "    devics = [\"sda\"]\n",
			want:   []string{"inputs.ebpf_latency.disk.devics"},
		},
		{
			name:   "unknown top-level key",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  interval = \"10s\"\n",
			want:   []string{"inputs.ebpf_latency.interval"},
		},
		{
			name:   "bad glob",
			config: table + "    devices = [\"[sd\"]\n",
			want:   []string{"inputs.ebpf_latency.disk.devices", `"[sd"`},
		},
		// One comm matcher (commglob): syscall and runq refuse alike.
		{
			name:   "syscall comms bad glob",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"syscall\"]\n  [inputs.ebpf_latency.syscall]\n    comms = [\"pg[wal\"]\n",
			want:   []string{`inputs.ebpf_latency.syscall.comms: bad glob "pg[wal": unclosed [`},
		},
		{
			name:   "runq comms bad glob",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"runq\"]\n  [inputs.ebpf_latency.runq]\n    comms = [\"pg[wal\"]\n",
			want:   []string{`inputs.ebpf_latency.runq.comms: bad glob "pg[wal": unclosed [`},
		},
		{
			name:   "syscall comms never match",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"syscall\"]\n  [inputs.ebpf_latency.syscall]\n    comms = [\"postgres*walwriter\"]\n",
			want:   []string{`inputs.ebpf_latency.syscall.comms: bad glob "postgres*walwriter": needs at least 17 characters`},
		},
		{
			name:   "runq comms too many tokens",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"runq\"]\n  [inputs.ebpf_latency.runq]\n    comms = [\"postgre?\", \"pg_walwrite?\", \"pg_checkpointe?\", \"pg_autovacuu?\", \"pg_statistic*\"]\n",
			want:   []string{`inputs.ebpf_latency.runq.comms: too many pattern tokens at "pg_statistic*"`},
		},
		{
			name:   "syscall comms unclosed brace",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"syscall\"]\n  [inputs.ebpf_latency.syscall]\n    comms = [\"pg_{wal,ckpt\"]\n",
			want:   []string{`inputs.ebpf_latency.syscall.comms: bad glob "pg_{wal,ckpt": unclosed {`},
		},
		{
			name:   "syscall comms past the exact-name cap",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"syscall\"]\n  [inputs.ebpf_latency.syscall]\n    comms = [\"a{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}\", \"b{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}\", \"c{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}\", \"d{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}\", \"e{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}\"]\n",
			want:   []string{`inputs.ebpf_latency.syscall.comms: too many exact names at "e{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}": more than 1024`},
		},
		{
			name:   "runq comms braces past their bound",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"runq\"]\n  [inputs.ebpf_latency.runq]\n    comms = [\"p{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}\"]\n",
			want:   []string{`inputs.ebpf_latency.runq.comms: bad glob "p{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}{0,1,2,3}": braces expand to more than 256 alternatives`},
		},
		{
			name:   "unknown stage",
			config: table + "    stages = [\"queu\"]\n",
			want:   []string{"inputs.ebpf_latency.disk.stages", `"queu"`},
		},
		{
			name:   "empty stages",
			config: table + "    stages = []\n",
			want:   []string{"inputs.ebpf_latency.disk.stages", "empty"},
		},
		{
			name:   "wrong type",
			config: "[[inputs.ebpf_latency]]\n  probes = \"disk\"\n",
			want:   []string{"inputs.ebpf_latency.probes", `"disk"`, "want a list"},
		},
		{
			name:   "wrong type in probe table",
			config: table + "    devices = \"sda\"\n",
			want:   []string{"inputs.ebpf_latency.disk.devices", `"sda"`, "want a list"},
		},
		{
			name:   "bad hook",
			config: table + "    hook = \"kprobe\"\n",
			want:   []string{"inputs.ebpf_latency.disk.hook", `"kprobe"`},
		},
		{
			name:   "bad start_times",
			config: table + "    start_times = \"sometimes\"\n",
			want:   []string{"inputs.ebpf_latency.disk.start_times", `"sometimes"`},
		},
		{
			name:   "runq start_times unknown",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"runq\"]\n  [inputs.ebpf_latency.runq]\n    start_times = \"sched\"\n",
			want:   []string{`inputs.ebpf_latency.runq.start_times: unknown value "sched" (want "auto", "kernel", "task_storage" or "hash")`},
		},
		{
			name:   "runq start_times kernel on raw_tp",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"runq\"]\n  [inputs.ebpf_latency.runq]\n    hook = \"raw_tp\"\n    start_times = \"kernel\"\n",
			want:   []string{`inputs.ebpf_latency.runq.start_times: "kernel" needs hook "tp_btf" or "auto", not "raw_tp"`},
		},
		// Issue 11's keys (slow events, cgroup attribution) through the
		// binary: one line naming key and value, exit 1.
		{
			name:   "slow_threshold not a duration",
			config: table + "    slow_threshold = \"50\"\n",
			want:   []string{`inputs.ebpf_latency.disk.slow_threshold: "50" is not a duration`},
		},
		{
			name:   "negative slow_events_per_second",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"tcp_connect\"]\n  [inputs.ebpf_latency.tcp]\n    slow_events_per_second = -1\n",
			want:   []string{`inputs.ebpf_latency.tcp.slow_events_per_second: -1 is out of range`},
		},
		{
			name:   "bad cgroups glob",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"runq\"]\n  [inputs.ebpf_latency.runq]\n    by_cgroup = true\n    cgroups = [\"db[\"]\n",
			want:   []string{`inputs.ebpf_latency.runq.cgroups: bad glob "db["`},
		},
		{
			name:   "zero max_cgroups in a functions table",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"func\"]\n  [[inputs.ebpf_latency.functions]]\n    binary = \"/bin/sh\"\n    symbol = \"main\"\n    by_cgroup = true\n    max_cgroups = 0\n",
			want:   []string{`inputs.ebpf_latency.functions[0].max_cgroups: 0 out of range`},
		},
		{
			name:   "cgroups without by_cgroup",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"syscall\"]\n  [inputs.ebpf_latency.syscall]\n    cgroups = [\"db*\"]\n",
			want:   []string{`inputs.ebpf_latency.syscall.cgroups: ["db*"] needs by_cgroup = true`},
		},
		{
			name:   "empty probes",
			config: "[[inputs.ebpf_latency]]\n  probes = []\n",
			want:   []string{"probes", "empty"},
		},
		{
			name:   "duplicate probe",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\", \"disk\"]\n",
			want:   []string{"probes", `"disk"`},
		},
		{
			name:   "no plugin table",
			config: "[agent]\n",
			want:   []string{"[[inputs.ebpf_latency]]"},
		},
		{
			name:   "TOML syntax error",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  [inputs.ebpf_latency.disk]\n    hook = tp_btf\n",
			wantRE: `line 4\b`,
		},
		{
			name: "missing config file",
			want: []string{"does-not-exist.conf", "no such file"},
		},
		{
			name:   "unknown key in an array of tables names its index",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"tcp_rtt\"]\n  [[inputs.ebpf_latency.tcp.peer_groups]]\n    name = \"a\"\n    cidrs = [\"10.0.0.0/8\"]\n  [[inputs.ebpf_latency.tcp.peer_groups]]\n    nmae = \"b\"\n",
			want:   []string{"inputs.ebpf_latency.tcp.peer_groups[1].nmae: unknown key"},
		},
		{
			name:   "unknown key in a function",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"func\"]\n  [[inputs.ebpf_latency.functions]]\n    binary = \"/bin/true\"\n    symbol = \"main\"\n  [[inputs.ebpf_latency.functions]]\n    binary = \"/bin/true\"\n    symbl = \"main\"\n",
			want:   []string{"inputs.ebpf_latency.functions[1].symbl: unknown key"},
		},
		{
			name:   "unknown key in an inline array of tables",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"tcp_rtt\"]\n  tcp = { peer_groups = [{ name = \"a\", cidrs = [\"10.0.0.0/8\"] }, { name = \"b\", cidrz = [] }] }\n",
			want:   []string{"inputs.ebpf_latency.tcp.peer_groups[1].cidrz: unknown key"},
		},
		{
			name:   "a table where a list belongs",
			config: table + "    devices = { sda = true }\n",
			want:   []string{"inputs.ebpf_latency.disk.devices", "{ sda = true } is a table, want a list"},
		},
		{
			name:   "a value where a probe table belongs",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  disk = \"sda\"\n",
			want:   []string{"inputs.ebpf_latency.disk: wrong type: \"sda\" is a string, want a table"},
		},
		{
			name:   "wrong type inside an inline table quotes that value only",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  disk = { stages = [\"queue\"], devices = \"sda\", flags = true }\n",
			want:   []string{"inputs.ebpf_latency.disk.devices: wrong type: \"sda\" is a string, want a list"},
		},
		{
			name:   "plugin table of the wrong type",
			config: "[inputs]\n  ebpf_latency = 3\n",
			want:   []string{"inputs.ebpf_latency: wrong type: 3 is an integer"},
		},
		{
			name:   "wrong type in an array of tables names the element",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"tcp_rtt\"]\n  [[inputs.ebpf_latency.tcp.peer_groups]]\n    name = \"a\"\n    cidrs = [\"10.0.0.0/8\"]\n  [[inputs.ebpf_latency.tcp.peer_groups]]\n    name = \"b\"\n    cidrs = \"10.1.0.0/16\"\n",
			want:   []string{`inputs.ebpf_latency.tcp.peer_groups[1].cidrs: wrong type: "10.1.0.0/16" is a string, want a list`},
		},
		{
			name:   "wrong element type in a list",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"tcp_rtt\"]\n  [[inputs.ebpf_latency.tcp.peer_groups]]\n    name = \"a\"\n    cidrs = [\"10.0.0.0/8\"]\n  [[inputs.ebpf_latency.tcp.peer_groups]]\n    name = \"b\"\n    cidrs = [\"10.1.0.0/16\", 3]\n",
			want:   []string{`inputs.ebpf_latency.tcp.peer_groups[1].cidrs: wrong type: ["10.1.0.0/16", 3] holds an integer, want a list of strings`},
		},
		{
			name:   "array of tables where a probe table belongs",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  [[inputs.ebpf_latency.disk]]\n",
			want:   []string{"inputs.ebpf_latency.disk: wrong type: [[inputs.ebpf_latency.disk]] is a list of tables, want a table"},
		},
		{
			name:   "deeply nested brackets",
			config: "[[inputs.ebpf_latency]]\n  probes = " + strings.Repeat("[", 200_000) + "\n",
			want:   []string{"config line 2", "nested more than 32 deep"},
		},
		{
			name:   "file over the size limit",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n" + strings.Repeat("# padding\n", 1<<20/10+1),
			want:   []string{"plugin.conf", "larger than 1024 KiB"},
		},
		{
			name:   "long value is clipped",
			config: table + "    devices = [\"" + strings.Repeat("x", 5000) + "[\"]\n",
			want:   []string{"inputs.ebpf_latency.disk.devices", `"xxxxxxxx`, `..." (5003 bytes)`},
		},
		{
			name:   "long key is clipped",
			config: "[[inputs.ebpf_latency]]\n  probes = [\"disk\"]\n  " + strings.Repeat("y", 5000) + " = 1\n",
			want:   []string{"inputs.ebpf_latency.yyyy", "bytes): unknown key"},
		},
		{
			name:   "long bare value in a syntax error is clipped",
			config: "[[inputs.ebpf_latency]]\n  probes = " + strings.Repeat("z", 5000) + "\n",
			want:   []string{"config line 2", `"zzzz`, "bytes) instead"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "does-not-exist.conf")
			if tt.config != "" {
				path = filepath.Join(dir, "plugin.conf")
				require.NoError(t, os.WriteFile(path, []byte(tt.config), 0o600))
			}
			r := runBinary(t, "-config", path)
			require.Equal(t, 1, r.code, "exit code; stderr: %q", r.stderr)
			require.Empty(t, r.stdout, "nothing on stdout")

			line, ok := strings.CutSuffix(r.stderr, "\n")
			require.True(t, ok, "stderr ends with a newline: %q", r.stderr)
			require.NotContains(t, line, "\n", "stderr is one line")
			require.True(t, strings.HasPrefix(line, "telegraf-ebpf-latency: "), "stderr prefix: %q", line)
			require.Greater(t, len(line), len("telegraf-ebpf-latency: "), "stderr has a message")
			require.NotContains(t, line, "goroutine")
			require.NotContains(t, line, "panic")
			require.LessOrEqual(t, len(line), len("telegraf-ebpf-latency: ")+maxErrorLine+len("... (1000000 bytes)"), "a line no longer than the error-line bound and its note")
			for _, s := range tt.want {
				require.Contains(t, line, s)
			}
			if tt.wantRE != "" {
				require.Regexp(t, tt.wantRE, line)
			}
			t.Logf("stderr: %s", line)
		})
	}
}

// A poll interval that would panic (negative), never gather (0) or only burn
// CPU (1ns) is refused before anything loads.
func TestPollIntervalRefused(t *testing.T) {
	binary(t)
	for _, value := range []string{"-1s", "0", "1ns", "99ms"} {
		t.Run(value, func(t *testing.T) {
			r := runBinary(t, "-poll_interval", value)
			require.Equal(t, 2, r.code, "exit code; stderr: %q", r.stderr)
			require.Empty(t, r.stdout)
			require.Regexp(t, `^telegraf-ebpf-latency: -poll_interval \S+: must be at least 100ms .*\n$`, r.stderr)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
		})
	}
	// The documented minimum itself is accepted: the bad config shows that
	// the flags were read and the run went on to the config.
	r := runBinary(t, "-poll_interval", "100ms", "-config", "/nonexistent/plugin.conf")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "/nonexistent/plugin.conf")
}

func TestVersionFlag(t *testing.T) {
	r := runBinary(t, "-version")
	require.Equal(t, 0, r.code, "stderr: %q", r.stderr)
	require.Equal(t, "telegraf-ebpf-latency "+testVersion+"\n", r.stdout)
	require.Regexp(t, `^telegraf-ebpf-latency \S+\n$`, r.stdout)
	require.Empty(t, r.stderr)
}

// TestStdinEOFStops runs the command as telegraf's execd does with signal =
// "STDIN": one newline, one gather; stdin closing stops it cleanly.
func TestStdinEOFStops(t *testing.T) {
	p := startPlugin(t, "-poll_interval_disabled")
	lines := p.readLines()

	start := time.Now()
	_, err := p.stdin.Write([]byte("\n"))
	require.NoError(t, err)
	line := nextSelfMetric(t, lines)
	t.Logf("first self-metric after %v: %s", time.Since(start).Round(time.Millisecond), line)

	p.closeStdinAndWait(t, lines)
}

// A gather signal of any length is a gather signal: telegraf's shim reads
// stdin with a bufio.Scanner, which took a line of 64 KiB for the end of
// stdin (the plugin exited 0 at once, saying nothing).
func TestLongStdinLineGathers(t *testing.T) {
	p := startPlugin(t, "-poll_interval_disabled")
	lines := p.readLines()
	for _, n := range []int{65_536, 1 << 20} {
		_, err := p.stdin.Write([]byte(strings.Repeat("x", n) + "\n"))
		require.NoError(t, err, "write a %d-byte line", n)
		t.Logf("%d-byte line: %s", n, nextSelfMetric(t, lines))
	}
	p.closeStdinAndWait(t, lines)
}

// plugin is the command started as telegraf's execd starts it, as root.
type plugin struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File // the read end of its stdout
	stderr *lockedBuffer
	exited chan error // Wait's result, put back after each receive
}

func startPlugin(t *testing.T, args ...string) *plugin {
	t.Helper()
	if os.Geteuid() != 0 {
		const reason = "needs root: loads eBPF programs"
		if os.Getenv("EBPF_LATENCY_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
	p := &plugin{cmd: exec.Command(binary(t), args...), stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	// Our own pipe, so that cmd.Wait does not race with the test's reads
	// (and so that a test can leave it unread).
	var stdoutW *os.File
	p.stdout, stdoutW, err = os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { p.stdout.Close() })
	p.cmd.Stdout, p.cmd.Stderr = stdoutW, p.stderr
	require.NoError(t, p.cmd.Start())
	stdoutW.Close()
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-p.exited:
			p.exited <- err
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// readLines delivers stdout line by line until it closes.
func (p *plugin) readLines() <-chan string {
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		r := bufio.NewReader(p.stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	return lines
}

// nextSelfMetric waits for the next gather's self-metric line.
func nextSelfMetric(t *testing.T, lines <-chan string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "stdout closed before an ebpf_latency_probe line")
			if strings.HasPrefix(line, "ebpf_latency_probe,") {
				require.Contains(t, line, "up=1i", "the disk probe runs")
				return line
			}
		case <-timeout:
			t.Fatal("no ebpf_latency_probe line on stdout within 20s")
		}
	}
}

func (p *plugin) closeStdinAndWait(t *testing.T, lines <-chan string) {
	t.Helper()
	require.NoError(t, p.stdin.Close())
	closed := time.Now()
	go func() {
		for range lines { // drain the rest so the process never blocks on stdout
		}
	}()
	select {
	case err := <-p.exited:
		p.exited <- err
		require.NoError(t, err, "exit status after stdin EOF")
		t.Logf("exited %v after stdin closed", time.Since(closed).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after stdin closed")
	}
}

// lockedBuffer is a bytes.Buffer safe for the exec copier and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
