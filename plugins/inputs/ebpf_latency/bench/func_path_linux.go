package bench

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	benchbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/bench"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	funcprobe "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/func"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// Variant names of the func path.
const (
	FuncBaseline = "baseline: no programs"
	FuncFloor    = "floor: empty uprobe + uretprobe"
	FuncDefault  = "func: default (uprobe + uretprobe, attach cookies)"
	FuncHash     = `func: start_times = "hash" (the fallback's map)`
	FuncCgroup   = "func: by_cgroup = true"
	FuncSlow     = `func: slow_threshold = "1s" (events on, none sent)`
	FuncBpftrace = "bpftrace uprobe + uretprobe, start per tid"
	funcSymbol   = "bench_fn"
)

// FuncPath calls a function that does almost nothing: the uprobe and
// uretprobe traps are nearly the whole cost of a watched call. Event = one
// call; both hooks run once per call, so the divisor is the calls made.
var FuncPath = Path{
	Name:             "func",
	Event:            "one call of a non-inlined C function that adds to a global (gcc -O0), one thread; in-kernel ns per call (entry + return)",
	Scale:            5,
	PerWorkloadEvent: true,
	Setup:            setupFunc,
	Alternative:      FuncBpftrace,
	Targets: func(rows []*Row) []Target {
		return probeTargets(rows, FuncDefault, FuncFloor, FuncBpftrace, limitVsFloor)
	},
}

//go:embed testdata/funcbench.c
var funcBenchSource []byte

// bpftraceFunc is what a user would write to time one function.
const bpftraceFunc = `
uprobe:%[1]s:%[2]s { @start[tid] = nsecs; }
uretprobe:%[1]s:%[2]s /@start[tid]/ {
	@us = hist((nsecs - @start[tid]) / 1000);
	delete(@start[tid]);
}
END { clear(@start); }
`

// funcWorkload is the C program, started once per path and driven by
// lines on its stdin.
type funcWorkload struct {
	bin   string
	stdin io.Writer
	out   *bufio.Reader
}

func (w *funcWorkload) Run(t testing.TB, n int) Result {
	t.Helper()
	if _, err := fmt.Fprintf(w.stdin, "%d\n", n); err != nil {
		t.Fatalf("func workload: %v", err)
	}
	line, err := w.out.ReadString('\n')
	if err != nil {
		t.Fatalf("func workload: %v", err)
	}
	ns, err := strconv.ParseFloat(strings.TrimSpace(line), 64)
	if err != nil {
		t.Fatalf("func workload answered %q", line)
	}
	return Result{Ops: uint64(n), WallNs: ns / float64(n)}
}

func (w *funcWorkload) Warm(t testing.TB) { w.Run(t, 16) }

// buildC compiles an embedded C source into the test's temporary directory.
func buildC(t testing.TB, name string, src []byte, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	srcPath := filepath.Join(dir, name+".c")
	if err := os.WriteFile(srcPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	args := append(append([]string{}, flags...), "-Wall", "-o", bin, srcPath)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v: %s", name, err, out)
	}
	return bin
}

// startHelper starts bin, waits for its "ready" line (returned), and kills
// it by PID when the test ends.
func startHelper(t testing.TB, cmd *exec.Cmd) (io.Writer, *bufio.Reader, string) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		t.Fatalf("%s: no ready line (%q, %v)", cmd.Path, line, err)
	}
	return stdin, out, strings.TrimSpace(line)
}

func setupFunc(t testing.TB) (Workload, []Variant) {
	// -O0 -g like the func probe's tests: the function starts with a push
	// the kernel emulates, as most real functions do.
	bin := buildC(t, "funcbench", funcBenchSource, "-O0", "-g")
	w := &funcWorkload{bin: bin}
	w.stdin, w.out, _ = startHelper(t, exec.Command(bin))
	base := filepath.Base(bin)
	probeWith := func(startTimes string, byCgroup bool, slow string) func(testing.TB) (*Running, error) {
		return func(t testing.TB) (*Running, error) {
			cfg := &funcprobe.Config{{Binary: bin, Symbol: funcSymbol, StartTimes: startTimes, ByCgroup: byCgroup, SlowThreshold: slow}}
			tags := map[string]string{funcprobe.TagBinary: base, funcprobe.TagFunction: funcSymbol}
			if byCgroup {
				tags[funcprobe.TagCgroup] = "/" // the workload's: the root's, where the test runs, as in the syscall path
			}
			return startRegistered(t, funcprobe.Name, cfg, "func_", "func_return", func(p probe.Probe) (uint64, error) {
				return seriesCount(p, funcprobe.Measurement, tags)
			})
		}
	}
	return w, []Variant{
		{Name: FuncBaseline, Role: Baseline, Start: func(t testing.TB) (*Running, error) { return newRunning(t, nil), nil }},
		{Name: FuncFloor, Role: Floor, Start: func(t testing.TB) (*Running, error) { return startUprobeFloor(t, bin) }},
		{Name: FuncDefault, Role: Probe, Records: 1, Floor: FuncFloor, Start: probeWith(taskstarts.Auto, false, "")},
		// Task storage against the hash older kernels get.
		{Name: FuncHash, Role: Probe, Records: 1, Floor: FuncFloor, Start: probeWith(taskstarts.Hash, false, "")},
		{Name: FuncCgroup, Role: Probe, Records: 1, Floor: FuncFloor, Start: probeWith(taskstarts.Auto, true, "")},
		{Name: FuncSlow, Role: Probe, Records: 1, Floor: FuncFloor, Start: probeWith(taskstarts.Auto, false, "1s")},
		{Name: FuncBpftrace, Role: Alternative, Start: func(t testing.TB) (*Running, error) {
			// bpftrace names both programs after the function.
			run, err := startBpftrace(t, fmt.Sprintf(bpftraceFunc, bin, funcSymbol), []string{funcSymbol, funcSymbol}, funcSymbol)
			if err != nil {
				return nil, err
			}
			if len(run.Events) != 2 {
				return nil, fmt.Errorf("bpftrace: want an entry and a return program named %s, got %d", funcSymbol, len(run.Events))
			}
			// Entry and return run once per call each: either one counts
			// calls, and they cannot be told apart by name.
			run.Events = run.Events[:1]
			return run, nil
		}},
	}
}

// startUprobeFloor attaches the empty uprobe + uretprobe pair to the
// function, as the func probe attaches its own.
func startUprobeFloor(t testing.TB, bin string) (*Running, error) {
	spec, err := benchbpf.LoadBench()
	if err != nil {
		return nil, fmt.Errorf("reading the embedded bench object: %w", err)
	}
	att, err := hooks.Attach(spec, []hooks.Flavour{{Kind: hooks.Uprobe, Hooks: []hooks.Hook{
		{Program: benchbpf.BenchProgFloorUprobe}, {Program: benchbpf.BenchProgFloorUretprobe},
	}}}, hooks.Options{})
	if err != nil {
		return nil, err
	}
	run := newRunning(t, att.Close)
	exe, err := link.OpenExecutable(bin)
	if err != nil {
		_ = run.Stop()
		return nil, err
	}
	entry, ret := att.Programs()[benchbpf.BenchProgFloorUprobe], att.Programs()[benchbpf.BenchProgFloorUretprobe]
	rl, err := exe.Uretprobe(funcSymbol, ret, nil)
	if err != nil {
		_ = run.Stop()
		return nil, err
	}
	att.Keep(rl)
	el, err := exe.Uprobe(funcSymbol, entry, nil)
	if err != nil {
		_ = run.Stop()
		return nil, err
	}
	att.Keep(el)
	run.Programs, run.Events = []*ebpf.Program{entry, ret}, []*ebpf.Program{ret}
	return run, nil
}
