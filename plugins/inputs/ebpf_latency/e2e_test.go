//go:build linux

package ebpf_latency_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// Environment of the end-to-end test: the telegraf binary to run (built with
// at least inputs.execd and outputs.file; `make telegraf` builds one).
const telegrafEnv = "EBPF_LATENCY_TELEGRAF"

// What telegraf.conf.example says, which the test swaps for its own paths.
const (
	exampleConfig     = "../../../telegraf.conf.example"
	exampleBinary     = `"/usr/local/bin/telegraf-ebpf-latency"`
	examplePluginConf = `"/etc/telegraf/telegraf-ebpf-latency.conf"`
	exampleOutput     = `"stdout"`
)

// exampleIntervals matches the agent's interval and flush_interval settings.
var exampleIntervals = regexp.MustCompile(`(?m)^([ \t]*(?:interval|flush_interval)[ \t]*=[ \t]*)"10s"`)

const (
	writes, reads  = 20, 10
	startTimeout   = 30 * time.Second
	countTimeout   = 30 * time.Second
	stopTimeout    = 10 * time.Second
	releaseTimeout = 5 * time.Second
)

// TestTelegrafEndToEnd runs a real telegraf on telegraf.conf.example (with
// test paths and 1 s intervals): the plugin runs under inputs.execd, counts
// I/O on a loop device exactly, and leaves no process or BPF program behind
// once telegraf stops.
func TestTelegrafEndToEnd(t *testing.T) {
	testenv.RequirePrivileged(t)
	telegraf := findTelegraf(t)
	dir := t.TempDir()

	began := time.Now()
	bin, exe := buildPlugin(t, dir)
	t.Logf("built %s in %v", bin, time.Since(began).Round(time.Millisecond))

	img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
	require.NoError(t, os.WriteFile(img, nil, 0o600))
	require.NoError(t, os.Truncate(img, 64<<20))
	dev := testenv.NewLoopDevice(t, img)

	pluginConf := writeDiskConfig(t, dir, dev.Name)
	output := filepath.Join(dir, "metrics.out")
	telegrafConf := filepath.Join(dir, "telegraf.conf")
	require.NoError(t, os.WriteFile(telegrafConf, deriveConfig(t, bin, pluginConf, output), 0o600))

	before := programIDs(t)
	tg := startTelegraf(t, telegraf, telegrafConf, filepath.Join(dir, "telegraf.log"))
	t.Cleanup(func() { killLeftovers(t, exe) })

	// Up: the self-metric says the disk probe runs, through some hook.
	up := waitProbeUp(t, tg, output)
	t.Logf("probe up %v after telegraf start: %s", time.Since(tg.started).Round(time.Millisecond), up)

	// The probe's programs are loaded and held by our plugin process: without
	// this the leak check at the end would prove nothing.
	loaded := newDiskPrograms(t, before)
	require.NotEmpty(t, loaded, "no disk_* BPF program loaded while the plugin runs")
	ours := processesOf(exe)
	require.Len(t, ours, 1, "one plugin process under telegraf")
	var held []string
	for id, name := range loaded {
		if slices.Contains(programHolders(id), ours[0]) {
			held = append(held, fmt.Sprintf("%d:%s", id, name))
		}
	}
	require.NotEmpty(t, held, "none of the new disk_* programs %v is held by plugin pid %d", loaded, ours[0])
	t.Logf("plugin pid %d holds BPF programs %v", ours[0], held)

	ioStart := time.Now()
	testenv.IssueDirect(t, dev.Path, true, writes, 0)
	testenv.IssueDirect(t, dev.Path, false, reads, 0)

	series := func(op string) map[string]string {
		return map[string]string{"device": dev.Name, "op": op, "stage": "service"}
	}
	var points []point
	waitOutput(t, tg, output, countTimeout, func(ps []point) (bool, string) {
		points = ps
		w, wok := latestSummary(ps, series("write"))
		r, rok := latestSummary(ps, series("read"))
		state := fmt.Sprintf("latest write: %s; latest read: %s", w.raw, r.raw)
		return wok && rok && w.fields["seconds_count"] == fmt.Sprintf("%di", writes) &&
			r.fields["seconds_count"] == fmt.Sprintf("%di", reads), state
	})
	t.Logf("counts seen %v after the I/O started", time.Since(ioStart).Round(time.Millisecond))

	for op, n := range map[string]int{"write": writes, "read": reads} {
		inf, ok := latestBucket(points, series(op), "+Inf")
		require.True(t, ok, "no le=+Inf bucket line for %s service", op)
		require.Equal(t, fmt.Sprintf("%di", n), inf.fields["seconds_bucket"], "+Inf bucket of %s service: %s", op, inf.raw)
		s, _ := latestSummary(points, series(op))
		sum, err := strconv.ParseFloat(s.fields["seconds_sum"], 64)
		require.NoError(t, err, "seconds_sum: %s", s.raw)
		require.Positive(t, sum, "seconds_sum: %s", s.raw)
		_, err = strconv.ParseFloat(s.fields["seconds_max"], 64)
		require.NoError(t, err, "seconds_max: %s", s.raw)
	}
	for _, p := range points {
		if p.name != "ebpf_disk_latency" {
			continue
		}
		require.Equal(t, dev.Name, p.tags["device"], "devices filter lets only the test's device through: %s", p.raw)
		require.NotEmpty(t, p.tags["host"], "omit_hostname = false adds tag host: %s", p.raw)
		le, isBucket := p.tags["le"]
		if !isBucket {
			continue
		}
		if le != "+Inf" {
			_, err := strconv.ParseFloat(le, 64)
			require.NoError(t, err, "le is a float or +Inf: %s", p.raw)
		}
		require.Regexp(t, `^[0-9]+i$`, p.fields["seconds_bucket"], "integer bucket: %s", p.raw)
	}

	stopStart := time.Now()
	tg.stop(t)
	t.Logf("telegraf stopped in %v", time.Since(stopStart).Round(time.Millisecond))

	deadline := time.Now().Add(releaseTimeout)
	for left := processesOf(exe); len(left) > 0; left = processesOf(exe) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin processes %v still running after telegraf stopped", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	requireProgramsReleased(t, before, exe)
}

// findTelegraf returns the telegraf to run: $EBPF_LATENCY_TELEGRAF, else the
// one on PATH. Without one the test skips, or fails under
// EBPF_LATENCY_REQUIRE_PRIVILEGED=1.
func findTelegraf(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(telegrafEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", telegrafEnv, p, err)
		}
		return p
	}
	p, err := exec.LookPath("telegraf")
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("no telegraf: set %s (make telegraf builds one) or put telegraf on PATH", telegrafEnv)
	if os.Getenv(testenv.RequirePrivilegedEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// deriveConfig is telegraf.conf.example with the test's binary, plugin
// config, output file and 1 s intervals; each setting must be there exactly
// as the test expects, so that the file tested is the one shipped.
func deriveConfig(t *testing.T, bin, pluginConf, output string) []byte {
	t.Helper()
	example, err := os.ReadFile(exampleConfig)
	require.NoError(t, err)
	conf := string(example)
	for _, r := range []struct{ old, new string }{
		{exampleBinary, strconv.Quote(bin)},
		{examplePluginConf, strconv.Quote(pluginConf)},
		{exampleOutput, strconv.Quote(output)},
	} {
		require.Equal(t, 1, strings.Count(conf, r.old), "%s: want %s exactly once", exampleConfig, r.old)
		conf = strings.Replace(conf, r.old, r.new, 1)
	}
	require.Len(t, exampleIntervals.FindAllString(conf, -1), 2,
		"%s: want interval and flush_interval = \"10s\"", exampleConfig)
	conf = exampleIntervals.ReplaceAllString(conf, `${1}"1s"`)
	// Flushed well within each 1 s gather, so that two gathers never reach
	// an output in one flush: prometheus_client keeps only the last, and
	// an interval gauge (seconds_max) of the first would be lost.
	conf = strings.Replace(conf, `flush_interval = "1s"`, `flush_interval = "250ms"`, 1)
	return []byte(conf)
}

// telegrafProcess is a running telegraf in its own process group.
type telegrafProcess struct {
	cmd     *exec.Cmd
	log     string
	started time.Time
	exited  chan struct{} // closed once cmd.Wait returned
	err     error         // cmd.Wait's result, valid after exited
}

func startTelegraf(t *testing.T, telegraf, conf, logPath string) *telegrafProcess {
	return startTelegrafAs(t, telegraf, []string{"--config", conf}, logPath, nil)
}

// startTelegrafAs is startTelegraf with any arguments, as user cred (nil:
// the test's own).
func startTelegrafAs(t *testing.T, telegraf string, args []string, logPath string, cred *syscall.Credential) *telegrafProcess {
	t.Helper()
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close()
	cmd := exec.Command(telegraf, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	require.NoError(t, cmd.Start())
	tg := &telegrafProcess{cmd: cmd, log: logPath, started: time.Now(), exited: make(chan struct{})}
	go func() {
		tg.err = cmd.Wait()
		close(tg.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-tg.exited:
		default:
			// Still running: the test failed early. Kill the whole group
			// (its id is telegraf's pid).
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-tg.exited
		}
		if t.Failed() {
			out, _ := os.ReadFile(tg.log)
			t.Logf("telegraf output:\n%s", out)
		}
	})
	return tg
}

// stop sends SIGTERM to telegraf's pid and waits for it to exit, killing it
// (and failing) after stopTimeout.
func (tg *telegrafProcess) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, syscall.Kill(tg.cmd.Process.Pid, syscall.SIGTERM))
	select {
	case <-tg.exited:
		t.Logf("telegraf exited: %v", tg.err)
	case <-time.After(stopTimeout):
		_ = syscall.Kill(tg.cmd.Process.Pid, syscall.SIGKILL)
		<-tg.exited
		t.Errorf("telegraf still running %v after SIGTERM: killed", stopTimeout)
	}
}

// waitOutput polls telegraf's output file until cond holds, failing after
// timeout or if telegraf exits. It returns cond's description.
func waitOutput(t *testing.T, tg *telegrafProcess, output string, timeout time.Duration, cond func([]point) (bool, string)) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		points := readPoints(t, output)
		ok, state := cond(points)
		if ok {
			return state
		}
		select {
		case <-tg.exited:
			t.Fatalf("telegraf exited (%v) while waiting; %s", tg.err, state)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v (%d lines of output); %s", timeout, len(points), state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// readPoints parses every complete line of the output file so far.
func readPoints(t *testing.T, path string) []point {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	text := string(data)
	// A line still being written has no newline yet.
	text = text[:strings.LastIndexByte(text, '\n')+1]
	var points []point
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		p, err := parseLine(line)
		require.NoError(t, err, "output line %q", line)
		points = append(points, p)
	}
	return points
}

// latestSummary is the last sum/count/max line (no le) of a series, ignoring
// tags other than those given (host).
func latestSummary(points []point, series map[string]string) (point, bool) {
	return latest(points, series, "")
}

// latestBucket is the last bucket line with the given le of a series.
func latestBucket(points []point, series map[string]string, le string) (point, bool) {
	return latest(points, series, le)
}

func latest(points []point, series map[string]string, le string) (point, bool) {
	for _, p := range slices.Backward(points) {
		if p.name != "ebpf_disk_latency" || p.tags["le"] != le {
			continue
		}
		match := true
		for k, v := range series {
			match = match && p.tags[k] == v
		}
		if match {
			return p, true
		}
	}
	return point{}, false
}

// point is one parsed line of influx line protocol; field values stay raw
// ("20i", "0.5").
type point struct {
	raw    string
	name   string
	tags   map[string]string
	fields map[string]string
	ts     string
}

// parseLine parses what telegraf's influx serializer writes: escaped
// measurement, tags and field keys, double-quoted string fields, and an
// optional timestamp.
func parseLine(line string) (point, error) {
	p := point{raw: line, tags: map[string]string{}, fields: map[string]string{}}
	parts := splitEscaped(line, ' ')
	if len(parts) < 2 || len(parts) > 3 {
		return p, fmt.Errorf("want measurement[,tags] fields [timestamp], got %d parts", len(parts))
	}
	if len(parts) == 3 {
		p.ts = parts[2]
		if _, err := strconv.ParseInt(p.ts, 10, 64); err != nil {
			return p, fmt.Errorf("timestamp %q: %v", p.ts, err)
		}
	}
	key := splitEscaped(parts[0], ',')
	p.name = unescape(key[0])
	for _, tag := range key[1:] {
		kv := splitEscaped(tag, '=')
		if len(kv) != 2 || kv[0] == "" {
			return p, fmt.Errorf("tag %q", tag)
		}
		p.tags[unescape(kv[0])] = unescape(kv[1])
	}
	for _, field := range splitEscaped(parts[1], ',') {
		kv := splitEscaped(field, '=')
		if len(kv) != 2 || kv[0] == "" || kv[1] == "" {
			return p, fmt.Errorf("field %q", field)
		}
		p.fields[unescape(kv[0])] = kv[1]
	}
	if p.name == "" || len(p.fields) == 0 {
		return p, errors.New("no measurement or no field")
	}
	return p, nil
}

// splitEscaped splits s on sep, except where sep is backslash-escaped or
// inside a double-quoted string; escapes are kept.
func splitEscaped(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// programIDs lists the ids of every loaded BPF program.
func programIDs(t *testing.T) map[ebpf.ProgramID]bool {
	t.Helper()
	ids := map[ebpf.ProgramID]bool{}
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return ids
		}
		require.NoError(t, err, "BPF_PROG_GET_NEXT_ID")
		ids[next] = true
		id = next
	}
}

// newDiskPrograms returns the programs named disk_* loaded since before.
func newDiskPrograms(t *testing.T, before map[ebpf.ProgramID]bool) map[ebpf.ProgramID]string {
	t.Helper()
	found := map[ebpf.ProgramID]string{}
	for id := range programIDs(t) {
		if before[id] {
			continue
		}
		prog, err := ebpf.NewProgramFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // unloaded meanwhile
		}
		require.NoError(t, err, "open BPF program %d", id)
		info, err := prog.Info()
		prog.Close()
		require.NoError(t, err, "info of BPF program %d", id)
		if strings.HasPrefix(info.Name, "disk_") {
			found[id] = info.Name
		}
	}
	return found
}

// requireProgramsReleased fails if a disk_* program loaded since before is
// still there after releaseTimeout (the kernel may free them a little after
// the last fd closes). A program held open by another live process (another
// test package running in parallel) is not ours and is only logged.
func requireProgramsReleased(t *testing.T, before map[ebpf.ProgramID]bool, bin string) {
	t.Helper()
	deadline := time.Now().Add(releaseTimeout)
	for {
		leaked := map[ebpf.ProgramID]string{}
		others := map[ebpf.ProgramID][]int{}
		for id, name := range newDiskPrograms(t, before) {
			holders := programHolders(id)
			if len(holders) == 0 || slices.ContainsFunc(holders, func(pid int) bool { return exeOf(pid) == bin }) {
				leaked[id] = name
			} else {
				others[id] = holders
			}
		}
		if len(leaked) == 0 {
			if len(others) > 0 {
				t.Logf("new disk_* BPF programs held by other processes (not ours): %v", others)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("BPF programs still loaded %v after telegraf stopped: %v", releaseTimeout, leaked)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// programHolders lists the pids (other than ours) with an fd on program id,
// directly or through a BPF link, as their fdinfo reports "prog_id".
func programHolders(id ebpf.ProgramID) []int {
	want := fmt.Sprintf("prog_id:\t%d", id)
	var pids []int
	for _, pid := range allPIDs() {
		if pid == os.Getpid() {
			continue
		}
		infos, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
		for _, f := range infos {
			data, err := os.ReadFile(f)
			if err == nil && slices.Contains(strings.Split(string(data), "\n"), want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// processesOf lists the live processes running the executable bin.
func processesOf(bin string) []int {
	var pids []int
	for _, pid := range allPIDs() {
		if exeOf(pid) == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killLeftovers kills, by pid, any process still running bin (a failed test).
func killLeftovers(t *testing.T, bin string) {
	for _, pid := range processesOf(bin) {
		t.Errorf("killing leftover plugin process %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func exeOf(pid int) string {
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return exe
}

// allPIDs lists every pid in /proc.
func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
