package syscall

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// startProbe runs a syscall probe, after setup (plugin-wide settings) if
// given; it stops at test end.
func startProbe(t *testing.T, cfg *Config, setup ...func(*syscallProbe)) *syscallProbe {
	t.Helper()
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	p := newProbe(cfg, testutil.Logger{}).(*syscallProbe)
	testenv.UseScheme(p)
	for _, f := range setup {
		f(p)
	}
	require.NoError(t, p.Start())
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	return p
}

func config(syscalls, comms []string) *Config {
	cfg := DefaultConfig()
	cfg.Syscalls, cfg.Comms = syscalls, comms
	return cfg
}

func gather(t *testing.T, p *syscallProbe) *testutil.Accumulator {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	return &acc
}

type series = testenv.Series

func findSeries(acc *testutil.Accumulator, syscall, comm string) (series, bool) {
	return testenv.FindSeries(acc, Measurement, map[string]string{TagSyscall: syscall, TagComm: comm})
}

var requireConsistent = testenv.RequireConsistent

// count is a series' sample count, 0 when it is absent.
func count(acc *testutil.Accumulator, syscall, comm string) uint64 {
	s, _ := findSeries(acc, syscall, comm)
	return s.Count
}

// comms lists the comm tags of a gather.
func comms(acc *testutil.Accumulator) map[string]bool { return tagValues(acc, TagComm) }

// tagValues lists the values of tag name in a gather ("" where absent).
func tagValues(acc *testutil.Accumulator, name string) map[string]bool {
	seen := map[string]bool{}
	for _, m := range acc.GetTelegrafMetrics() {
		seen[m.Tags()[name]] = true
	}
	return seen
}

const syncs = 37

func TestExactCountsThroughEveryHook(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, hook := range []string{HookTPBTF, HookRawTP} {
		for _, filtered := range []bool{true, false} {
			t.Run(hook+"/comms="+strconv.FormatBool(filtered), func(t *testing.T) {
				cfg := config([]string{"fdatasync", "getpid"}, nil)
				if filtered {
					cfg.Comms = []string{uniq("fsyncer")}
				}
				cfg.Hook = hook
				h := startHelper(t, uniq("fsyncer"))
				p := startProbe(t, cfg)
				require.Equal(t, hook, p.Status().Hook)

				h.do(t, "fdatasync %d", syncs)
				h.do(t, "getpid %d", 11)
				acc := gather(t, p)

				s, ok := findSeries(acc, "fdatasync", uniq("fsyncer"))
				require.True(t, ok, "no fdatasync series for the helper")
				require.Positive(t, s.Sum)
				requireConsistent(t, s, syncs)
				require.Equal(t, uint64(11), count(acc, "getpid", uniq("fsyncer")))
				if filtered {
					require.Equal(t, map[string]bool{uniq("fsyncer"): true}, comms(acc))
				}
				for _, m := range acc.GetTelegrafMetrics() {
					require.Contains(t, []string{"fdatasync", "getpid"}, m.Tags()[TagSyscall])
				}
			})
		}
	}
}

// A 32-bit syscall numbered like a watched 64-bit one is another call: ia32
// 75 is setrlimit, x86-64 75 is fdatasync. It must not be counted.
func TestCompatSyscallsAreNotMistaken(t *testing.T) {
	testenv.RequirePrivileged(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("int $0x80 is x86-64's way into the ia32 table")
	}
	for _, hook := range []string{HookTPBTF, HookRawTP} {
		t.Run(hook, func(t *testing.T) {
			cfg := config([]string{"fdatasync"}, []string{uniq("compat")})
			cfg.Hook = hook
			h := startHelper(t, uniq("compat"))
			p := startProbe(t, cfg)

			h.do(t, "int80 %d %d", 25, 75) // ia32 setrlimit(-1, NULL): fails fast
			h.do(t, "fdatasync %d", 3)
			acc := gather(t, p)
			require.Equal(t, uint64(3), count(acc, "fdatasync", uniq("compat")))
			require.Equal(t, uint64(25), p.Status().Counters["compat_skipped"])
		})
	}
}

// A comm the filter excludes is never counted, whatever the pattern's shape:
// exact name, prefix, or a general glob (one automaton in the kernel).
func TestCommsFilter(t *testing.T) {
	testenv.RequirePrivileged(t)
	tests := []struct {
		name     string
		patterns []string
		in, out  string
	}{
		{"exact", []string{uniq("in")}, uniq("in"), uniq("in2")},
		{"prefix", []string{uniq("pre*")}, uniq("prefix"), uniq("pr")},
		{"glob", []string{uniq("[ab]?c")}, uniq("bxc"), uniq("cxc")},
		{"glob with /", []string{runTag + "/*/x"}, runTag + "/0:1/x", runTag + "/0:1/y"},
		{"inner star", []string{uniq("a*z")}, uniq("abcz"), uniq("abcy")},
		{"several shapes", []string{uniq("ex"), uniq("p*"), uniq("[!a]?")}, uniq("bq"), uniq("aq")},
		// 40 exact names, 400 automaton states' worth: a hash lookup, no states.
		{"40 exact names", manyNames(uniq("in")), uniq("in"), uniq("in2")},
		{"exact names and a glob", append(manyNames(uniq("ex")), uniq("g?b")), uniq("gxb"), uniq("gxxb")},
		{"braces", []string{runTag + "-{x,b{r,s}}c"}, uniq("bsc"), uniq("bc")},
		{"braces into a glob", []string{runTag + "-{q,br*}"}, uniq("brace"), uniq("bq")},
	}
	for _, hook := range []string{HookTPBTF, HookRawTP} { // comm from BTF loads, from the helper
		for _, tt := range tests {
			t.Run(hook+"/"+tt.name, func(t *testing.T) {
				in, out := startHelper(t, tt.in), startHelper(t, tt.out)
				cfg := config([]string{"fdatasync"}, tt.patterns)
				cfg.Hook = hook
				p := startProbe(t, cfg)
				in.do(t, "fdatasync %d", syncs)
				out.do(t, "fdatasync %d", syncs)
				acc := gather(t, p)
				require.Equal(t, uint64(syncs), count(acc, "fdatasync", tt.in))
				require.Equal(t, map[string]bool{tt.in: true}, comms(acc), "only the matching comm")
			})
		}
	}
}

// manyNames is 40 exact comms of this run, name the second to last.
func manyNames(name string) []string {
	var names []string
	for i := 0; i < 38; i++ {
		names = append(names, uniq(fmt.Sprintf("n%02d", i)))
	}
	return append(names, name, uniq("last"))
}

// A general glob is judged in the kernel: a process started after attach,
// and a thread renamed into (or out of) the glob, are timed (or not) from
// their first syscall, with no gather in between.
func TestGeneralGlobTimesNewCommsFromTheirFirstSyscall(t *testing.T) {
	testenv.RequirePrivileged(t)
	p := startProbe(t, config([]string{"fdatasync"}, []string{uniq("g[xy]*b")}))
	h := startHelper(t, uniq("gxob"))
	h.do(t, "fdatasync %d", syncs)

	h.do(t, "name %s", uniq("gyyb"))
	h.do(t, "fdatasync %d", syncs+1)
	h.do(t, "name %s", uniq("gzob"))
	h.do(t, "fdatasync %d", syncs+2)
	acc := gather(t, p)
	require.Equal(t, uint64(syncs), count(acc, "fdatasync", uniq("gxob")), "timed from the first syscall")
	require.Equal(t, uint64(syncs+1), count(acc, "fdatasync", uniq("gyyb")), "renamed into the glob")
	require.Equal(t, map[string]bool{uniq("gxob"): true, uniq("gyyb"): true}, comms(acc), "gzob is outside the glob")
	require.NotContains(t, p.Status().Counters, "comm_unresolved", "nothing waits for user space")
}

// Comms running at Start are timed from the first syscall on.
func TestGeneralGlobForRunningComms(t *testing.T) {
	testenv.RequirePrivileged(t)
	h := startHelper(t, uniq("glob"))
	cfg := config([]string{"fdatasync"}, []string{uniq("g?ob")})
	cfg.Pids = []int{h.Pid}
	p := startProbe(t, cfg)
	h.do(t, "fdatasync %d", syncs)
	require.Equal(t, uint64(syncs), count(gather(t, p), "fdatasync", uniq("glob")))
}

func TestPidsFilter(t *testing.T) {
	testenv.RequirePrivileged(t)
	a, b := startHelper(t, uniq("pid")), startHelper(t, uniq("pid"))
	cfg := config([]string{"fdatasync"}, nil)
	cfg.Pids = []int{a.Pid}
	p := startProbe(t, cfg)
	a.do(t, "fdatasync %d", syncs)
	b.do(t, "fdatasync %d", syncs)
	acc := gather(t, p)
	require.Equal(t, uint64(syncs), count(acc, "fdatasync", uniq("pid")), "only the listed process")
	require.Equal(t, map[string]bool{uniq("pid"): true}, comms(acc))
}

// Beyond max_comms, samples fold into comm="other" and the fold is counted.
func TestMaxCommsFoldsIntoOther(t *testing.T) {
	testenv.RequirePrivileged(t)
	const first, second = 7, 5
	a, b := startHelper(t, uniq("fold-a")), startHelper(t, uniq("fold-b"))
	cfg := config([]string{"fdatasync"}, []string{uniq("fold-*")})
	cfg.MaxComms = 1
	p := startProbe(t, cfg)
	a.do(t, "fdatasync %d", first)
	b.do(t, "fdatasync %d", second)
	a.do(t, "fdatasync %d", first)
	acc := gather(t, p)
	require.Equal(t, uint64(2*first), count(acc, "fdatasync", uniq("fold-a")))
	require.Equal(t, uint64(second), count(acc, "fdatasync", CommOther))
	require.Equal(t, map[string]bool{uniq("fold-a"): true, CommOther: true}, comms(acc))
	require.Equal(t, uint64(second), p.Status().Counters["comm_folded"])
}

// A 20 ms sleep lands above 16.384 ms.
func TestDelayLandsInItsBucket(t *testing.T) {
	testenv.RequirePrivileged(t)
	const n = 5
	delay := 20 * time.Millisecond
	for _, hook := range []string{HookTPBTF, HookRawTP} {
		t.Run(hook, func(t *testing.T) {
			h := startHelper(t, uniq("sleeper"))
			cfg := config([]string{"clock_nanosleep"}, []string{uniq("sleeper")})
			cfg.Hook = hook
			p := startProbe(t, cfg)
			h.do(t, "sleep %d %d", n, delay.Milliseconds())
			s, ok := findSeries(gather(t, p), "clock_nanosleep", uniq("sleeper"))
			require.True(t, ok)
			testenv.RequireDelayed(t, s, n, "0.016384")
			require.GreaterOrEqual(t, s.Max, delay.Seconds())
			require.GreaterOrEqual(t, s.Sum, n*delay.Seconds())
			requireConsistent(t, s, n)
		})
	}
}

// A syscall already running at attach has no entry record: its exit must
// not produce a sample.
func TestExitWithoutEntryIsNotCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	h := startHelper(t, uniq("midway"))
	h.send(t, "sleep 1 1500")
	waitInSyscall(t, h.Pid, syscallNumbers["clock_nanosleep"])
	p := startProbe(t, config([]string{"clock_nanosleep"}, []string{uniq("midway")}))
	h.wait(t)
	h.do(t, "sleep 2 1")
	s, _ := findSeries(gather(t, p), "clock_nanosleep", uniq("midway"))
	require.Equal(t, uint64(2), s.Count, "the sleep begun before attach is not a sample")
}

// A task killed inside a timed syscall still passes sys_exit: one sample.
// Its record goes with it: from the fallback hash at thread exit, so a
// later thread reusing the ID starts clean; task storage dies with the task.
func TestKilledTaskEndsItsSyscall(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, store := range []string{taskstarts.TaskStorage, taskstarts.Hash} {
		t.Run(store, func(t *testing.T) {
			h := startHelper(t, uniq("killed"))
			cfg := config([]string{"clock_nanosleep"}, []string{uniq("killed")})
			cfg.StartTimes = store
			p := startProbe(t, cfg)
			h.send(t, "sleep 1 5000")
			waitInSyscall(t, h.Pid, syscallNumbers["clock_nanosleep"])
			require.NoError(t, unix.Kill(h.Pid, unix.SIGKILL))
			var status unix.WaitStatus
			_, err := unix.Wait4(h.Pid, &status, 0, nil)
			require.NoError(t, err)
			require.Equal(t, unix.SIGKILL, status.Signal())

			require.Equal(t, uint64(1), count(gather(t, p), "clock_nanosleep", uniq("killed")))
			if store == taskstarts.Hash {
				var rec syscallbpf.SyscallSyscallStart
				err := p.att.Collection.Maps["task_starts_hash"].Lookup(uint32(h.Pid), &rec)
				require.ErrorIs(t, err, ebpf.ErrKeyNotExist, "record released")
			}
		})
	}
}

// waitInSyscall waits until process pid blocks in syscall nr.
func waitInSyscall(t *testing.T, pid int, nr uint32) {
	t.Helper()
	want := strconv.FormatUint(uint64(nr), 10) + " "
	require.Eventually(t, func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/syscall")
		return err == nil && strings.HasPrefix(string(b), want)
	}, 5*time.Second, time.Millisecond, "process %d never blocked in syscall %d", pid, nr)
}

// Start and Stop leave no program or map behind, however often they run.
func TestStartStopLeavesNothing(t *testing.T) {
	testenv.RequirePrivileged(t)
	require.NoError(t, kernel.CheckPrerequisites())
	for i := 0; i < 3; i++ {
		cfg := DefaultConfig()
		cfg.Comms = []string{"ebpfl-x", "ebpfl-y*", "ebpfl-?"} // every map in use
		cfg.Pids = []int{1}
		p := newProbe(cfg, testutil.Logger{}).(*syscallProbe)
		require.NoError(t, p.Start())
		objs := testenv.ObjectsOf(t, p.att.Collection)
		require.Len(t, objs.Programs, 3, "syscall entry, syscall exit, thread exit")
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "second Stop is a no-op")
		testenv.RequireFreed(t, objs)
	}
}
