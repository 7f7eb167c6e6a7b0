package syscall

import (
	"errors"
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

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// startProbe runs a syscall probe; it stops at test end.
func startProbe(t *testing.T, cfg *Config) *syscallProbe {
	t.Helper()
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())
	p := newProbe(cfg, testutil.Logger{}).(*syscallProbe)
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

// series holds one series' lines from one gather.
type series struct {
	count   uint64
	sum     float64
	max     float64
	buckets map[string]uint64 // le -> cumulative count
}

func findSeries(acc *testutil.Accumulator, syscall, comm string) (series, bool) {
	s := series{buckets: map[string]uint64{}}
	found := false
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != Measurement || m.Tags()[TagSyscall] != syscall || m.Tags()[TagComm] != comm {
			continue
		}
		if le, ok := m.GetTag(histogram.TagBound); ok {
			v, _ := m.GetField(histogram.FieldBucket)
			s.buckets[le] = v.(uint64)
			continue
		}
		found = true
		c, _ := m.GetField(histogram.FieldCount)
		sum, _ := m.GetField(histogram.FieldSum)
		mx, _ := m.GetField(histogram.FieldMax)
		s.count, s.sum, s.max = c.(uint64), sum.(float64), mx.(float64)
	}
	return s, found
}

// count is a series' sample count, 0 when it is absent.
func count(acc *testutil.Accumulator, syscall, comm string) uint64 {
	s, _ := findSeries(acc, syscall, comm)
	return s.count
}

// comms lists the comm tags of a gather.
func comms(acc *testutil.Accumulator) map[string]bool {
	seen := map[string]bool{}
	for _, m := range acc.GetTelegrafMetrics() {
		seen[m.Tags()[TagComm]] = true
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
				require.Equal(t, uint64(syncs), s.count)
				require.Positive(t, s.sum)
				requireConsistent(t, s)
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
	cfg := config([]string{"fdatasync"}, []string{uniq("compat")})
	h := startHelper(t, uniq("compat"))
	p := startProbe(t, cfg)

	h.do(t, "int80 %d %d", 25, 75) // ia32 setrlimit(-1, NULL): fails fast
	h.do(t, "fdatasync %d", 3)
	acc := gather(t, p)
	require.Equal(t, uint64(3), count(acc, "fdatasync", uniq("compat")))
	require.Equal(t, uint64(25), p.Status().Counters["compat_skipped"])
}

// A comm the filter excludes is never counted, whichever way the kernel
// matches the pattern: exact name, prefix, or a user-space glob verdict.
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, out := startHelper(t, tt.in), startHelper(t, tt.out)
			p := startProbe(t, config([]string{"fdatasync"}, tt.patterns))
			in.do(t, "fdatasync %d", syncs)
			out.do(t, "fdatasync %d", syncs)
			acc := gather(t, p)
			require.Equal(t, uint64(syncs), count(acc, "fdatasync", tt.in))
			require.Equal(t, map[string]bool{tt.in: true}, comms(acc), "only the matching comm")
		})
	}
}

// General globs: a comm unknown at Start waits for user space's verdict
// (its syscalls are dropped and counted meanwhile), then is timed or not.
func TestGlobVerdictsResolveAtGather(t *testing.T) {
	testenv.RequirePrivileged(t)
	h := startHelper(t, uniq("start"))
	cfg := config([]string{"fdatasync"}, []string{uniq("g?ob")})
	cfg.Pids = []int{h.Pid} // no other process can be unresolved
	p := startProbe(t, cfg)

	h.do(t, "name %s", uniq("gyob"))
	h.do(t, "fdatasync 1")
	require.Equal(t, uint64(1), p.Status().Counters["comm_unresolved"])
	require.Zero(t, count(gather(t, p), "fdatasync", uniq("gyob")), "not timed before its verdict")
	h.do(t, "fdatasync %d", syncs)
	require.Equal(t, uint64(syncs), count(gather(t, p), "fdatasync", uniq("gyob")))

	h.do(t, "name %s", uniq("gyyob"))
	h.do(t, "fdatasync 1")
	gather(t, p) // resolves: excluded
	h.do(t, "fdatasync %d", syncs)
	acc := gather(t, p)
	require.Equal(t, map[string]bool{uniq("gyob"): true}, comms(acc))
	require.Equal(t, uint64(2), p.Status().Counters["comm_unresolved"])
	require.Zero(t, p.Status().Counters["verdicts_full"])
}

// Comms running at Start have their verdict from the first syscall on.
func TestGlobVerdictsForRunningComms(t *testing.T) {
	testenv.RequirePrivileged(t)
	h := startHelper(t, uniq("glob"))
	cfg := config([]string{"fdatasync"}, []string{uniq("g?ob")})
	cfg.Pids = []int{h.Pid}
	p := startProbe(t, cfg)
	h.do(t, "fdatasync %d", syncs)
	require.Equal(t, uint64(syncs), count(gather(t, p), "fdatasync", uniq("glob")))
	require.Zero(t, p.Status().Counters["comm_unresolved"])
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

// A 20 ms sleep lands in (16.384 ms, 32.768 ms].
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
			require.Equal(t, uint64(n), s.count)
			require.Equal(t, uint64(0), s.buckets["0.016384"], "no sample below the sleep")
			require.Equal(t, uint64(n), s.buckets["0.032768"], "every sample in (16.384 ms, 32.768 ms]")
			require.GreaterOrEqual(t, s.max, delay.Seconds())
			require.GreaterOrEqual(t, s.sum, n*delay.Seconds())
			requireConsistent(t, s)
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
	require.Equal(t, uint64(2), s.count, "the sleep begun before attach is not a sample")
}

// A task killed inside a timed syscall still passes sys_exit: one sample,
// and its record is consumed, so a later thread reusing the ID starts clean.
// Records of exited threads stay until the LRU map evicts them.
func TestKilledTaskEndsItsSyscall(t *testing.T) {
	testenv.RequirePrivileged(t)
	h := startHelper(t, uniq("killed"))
	p := startProbe(t, config([]string{"clock_nanosleep"}, []string{uniq("killed")}))
	h.send(t, "sleep 1 5000")
	waitInSyscall(t, h.Pid, syscallNumbers["clock_nanosleep"])
	require.NoError(t, unix.Kill(h.Pid, unix.SIGKILL))
	var status unix.WaitStatus
	_, err := unix.Wait4(h.Pid, &status, 0, nil)
	require.NoError(t, err)
	require.Equal(t, unix.SIGKILL, status.Signal())

	require.Equal(t, uint64(1), count(gather(t, p), "clock_nanosleep", uniq("killed")))
	starts := p.att.Collection.Maps[syscallbpf.SyscallMapSyscallStarts]
	require.Equal(t, ebpf.LRUHash, starts.Type())
	var rec syscallbpf.SyscallSyscallStart
	require.NoError(t, starts.Lookup(uint64(h.Pid)<<32|uint64(h.Pid), &rec))
	require.Zero(t, rec.Ns, "record consumed")
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
		progs, maps := objectIDs(t, p)
		require.Len(t, progs, 2, "one entry and one exit program")
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "second Stop is a no-op")
		// Links drop their program after an RCU grace period: wait for it.
		for _, id := range progs {
			require.Eventually(t, func() bool {
				prog, err := ebpf.NewProgramFromID(id)
				if err == nil {
					prog.Close() // our own reference would keep it alive
				}
				return errors.Is(err, os.ErrNotExist)
			}, 5*time.Second, 10*time.Millisecond, "program %d still loaded", id)
		}
		for _, id := range maps {
			require.Eventually(t, func() bool {
				// The library unmaps .rodata's memory view from a GC cleanup.
				runtime.GC()
				m, err := ebpf.NewMapFromID(id)
				if err == nil {
					m.Close()
				}
				return errors.Is(err, os.ErrNotExist)
			}, 5*time.Second, 10*time.Millisecond, "map %d still exists", id)
		}
	}
}

// objectIDs lists the kernel IDs of a running probe's programs and maps.
func objectIDs(t *testing.T, p *syscallProbe) ([]ebpf.ProgramID, []ebpf.MapID) {
	t.Helper()
	var progs []ebpf.ProgramID
	for _, prog := range p.att.Collection.Programs {
		info, err := prog.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		progs = append(progs, id)
	}
	var maps []ebpf.MapID
	for _, m := range p.att.Collection.Maps {
		info, err := m.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		maps = append(maps, id)
	}
	return progs, maps
}

// requireConsistent checks the histogram invariants of one series: buckets
// cumulate to the count, and the interval max fits under the first bound
// that holds every sample.
func requireConsistent(t *testing.T, s series) {
	t.Helper()
	require.Equal(t, s.count, s.buckets["+Inf"], "+Inf bucket equals count")
	var prev uint64
	firstFull := ""
	for slot := 0; slot < histogram.Slots-1; slot++ {
		c, ok := s.buckets[histogram.BoundLabel(slot)]
		if !ok {
			continue
		}
		require.GreaterOrEqual(t, c, prev, "buckets are cumulative")
		prev = c
		if c == s.count && firstFull == "" {
			firstFull = histogram.BoundLabel(slot)
		}
	}
	if firstFull != "" {
		bound, _ := strconv.ParseFloat(firstFull, 64)
		require.LessOrEqual(t, s.max, bound, "max %v above le=%s that holds all samples", s.max, firstFull)
	}
}
