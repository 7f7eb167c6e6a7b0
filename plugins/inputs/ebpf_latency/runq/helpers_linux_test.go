package runq

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// helperBin is testdata/runqhelper.c, built by TestMain.
var helperBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runqhelper-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helperBin = buildC(filepath.Join(dir, "runqhelper"), "testdata/runqhelper.c")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildC compiles src into bin and returns bin, or "" (saying why).
func buildC(bin, src string, flags ...string) string {
	args := append([]string{"-O2", "-Wall", "-o", bin, src}, flags...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building %s: %v\n%s", src, err, out)
		return ""
	}
	return bin
}

func requireHelper(t *testing.T) {
	t.Helper()
	require.NotEmpty(t, helperBin, "gcc could not build testdata/runqhelper.c")
}

// testCPU is the last CPU this process may run on: hog, sleeper and
// blocker share it, so they compete for it.
func testCPU(t *testing.T) int {
	t.Helper()
	var set unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &set))
	for cpu := 1023; cpu >= 0; cpu-- {
		if set.IsSet(cpu) {
			return cpu
		}
	}
	t.Fatal("empty CPU affinity")
	return 0
}

// otherCPU is a CPU this process may use besides cpu.
func otherCPU(t *testing.T, cpu int) int {
	t.Helper()
	var set unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &set))
	for c := 0; c < 1024; c++ {
		if c != cpu && set.IsSet(c) {
			return c
		}
	}
	t.Fatal("one CPU only: a wait cannot move between run queues")
	return 0
}

// startHog busy-loops on cpu until the test ends; it is killed by PID.
// It returns once the hog is pinned and spinning.
func startHog(t *testing.T, cpu int) {
	t.Helper()
	requireHelper(t)
	cmd := exec.Command(helperBin, "hog", strconv.Itoa(cpu))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
}

// runHelper runs a sleep, block or crowd workload to its end and returns
// how often it was switched out while named name.
func runHelper(t *testing.T, mode string, cpu, n int, arg, name string) uint64 {
	t.Helper()
	switches, _ := runHelperPid(t, mode, cpu, n, arg, name)
	return switches
}

// runHelperPid is runHelper that also says which process ran.
func runHelperPid(t *testing.T, mode string, cpu, n int, arg, name string) (switches uint64, pid int) {
	t.Helper()
	return runHelperArgs(t, mode, strconv.Itoa(cpu), strconv.Itoa(n), arg, name)
}

// runHelperArgs runs runqhelper with args to its end and returns the
// switch-outs it counted and which process ran.
func runHelperArgs(t *testing.T, args ...string) (switches uint64, pid int) {
	t.Helper()
	requireHelper(t)
	cmd := exec.Command(helperBin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "runqhelper %v: %s", args, stderr.String())
	switches, err := strconv.ParseUint(strings.TrimSpace(stdout.String()), 10, 64)
	require.NoError(t, err)
	return switches, cmd.Process.Pid
}

// flavour is one way the probe times waits: a hook, and where enqueue
// times come from.
type flavour struct{ hook, startTimes string }

// everyFlavour is the fallback chain, best first; every behaviour test
// runs on each. (tp_btf with the hash, the chain's step on kernels without
// task storage, is covered by TestCrowdBeyondStartRecords.)
var everyFlavour = []flavour{
	{"tp_btf", StartTimesKernel},
	{"tp_btf", taskstarts.TaskStorage},
	{"raw_tp", taskstarts.Hash},
}

func (f flavour) String() string { return f.hook + "," + f.startTimes }

// eachFlavour runs test as one subtest per flavour.
func eachFlavour(t *testing.T, test func(t *testing.T, fl flavour)) {
	for _, fl := range everyFlavour {
		t.Run(fl.String(), func(t *testing.T) { test(t, fl) })
	}
}

// pin makes cfg run this flavour only.
func (f flavour) pin(cfg *Config) *Config {
	cfg.Hook, cfg.StartTimes = f.hook, f.startTimes
	return cfg
}

// startProbe runs a runq probe, after setup (plugin-wide settings) if
// given; it stops at test end.
func startProbe(t *testing.T, cfg *Config, setup ...func(*runqProbe)) *runqProbe {
	t.Helper()
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	p := newProbe(cfg, testutil.Logger{}).(*runqProbe)
	testenv.UseScheme(p)
	for _, f := range setup {
		f(p)
	}
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	if st := p.Status(); cfg.Hook != "auto" && cfg.StartTimes != taskstarts.Auto {
		require.Equal(t, flavour{cfg.Hook, cfg.StartTimes}, flavour{st.Hook, st.StartTimes}, "the pinned flavour runs")
	}
	t.Cleanup(func() { logHealthOnFailure(t, p) }) // runs before Stop
	return p
}

// logHealthOnFailure tells a lost sample's likely cause: counters, and
// runs the kernel skipped because the program was already active.
func logHealthOnFailure(t *testing.T, p *runqProbe) {
	if !t.Failed() || p.att == nil {
		return
	}
	t.Logf("counters: %v", p.Status().Counters)
	for name, prog := range p.att.Programs() {
		if st, err := prog.Stats(); err == nil {
			t.Logf("%s: recursion misses %d", name, st.RecursionMisses)
		}
	}
}

func gather(t *testing.T, p *runqProbe) *testutil.Accumulator {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	return &acc
}

type series = testenv.Series

// findSeries collects the series whose tags (le aside) are exactly tags.
func findSeries(acc *testutil.Accumulator, tags map[string]string) (series, bool) {
	return testenv.FindSeries(acc, Measurement, tags)
}

// commsSeen lists the comm tags of a gather ("" for a series without one).
func commsSeen(acc *testutil.Accumulator) map[string]bool {
	seen := map[string]bool{}
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() == Measurement {
			seen[m.Tags()[TagComm]] = true
		}
	}
	return seen
}
