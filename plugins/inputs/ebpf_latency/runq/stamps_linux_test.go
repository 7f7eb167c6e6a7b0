package runq

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// schedInfo is a task's /proc/PID/schedstat: the kernel's own sum of its
// waits (run_delay, ns, rq clock) and count of its timed arrivals (pcount).
func schedInfo(t *testing.T, pid int) (runDelay, arrivals uint64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	require.NoError(t, err)
	f := strings.Fields(string(b))
	require.Len(t, f, 3, "schedstat %q", b)
	runDelay, err = strconv.ParseUint(f[1], 10, 64)
	require.NoError(t, err)
	arrivals, err = strconv.ParseUint(f[2], 10, 64)
	require.NoError(t, err)
	return runDelay, arrivals
}

// With start_times = "kernel" a sample is the scheduler's own account of the
// wait: the server's samples are its arrivals as schedstat counts them, and
// their sum is schedstat's run_delay to the nanosecond (both rq clock, one
// CPU, nothing migrated). The server sleeps alone on its CPU first (wakeups
// onto an idle CPU, timed from a clock the scheduler did not update since
// the enqueue: often 0), then beside a hog. The one arrival sched_switch
// may not report (requireSwitchIns) is allowed, and then only that wait is
// missing.
func TestKernelStampsAgreeWithTheSchedulersAccount(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 200
	cpu := testCPU(t)
	comm := uniqueComm("ebpfl-acct")
	srv := startServer(t, comm, cpu, 1000)
	cfg := DefaultConfig()
	cfg.Comms = []string{comm}
	p := startProbe(t, flavour{"tp_btf", StartTimesKernel}.pin(cfg))

	srv.switchIns(t) // blocked: its schedstat holds still
	delay0, arrivals0 := schedInfo(t, srv.Pid)
	counters0 := p.Status().Counters
	srv.sleep(t, rounds/2)
	startHog(t, cpu)
	srv.sleep(t, rounds/2)
	srv.switchIns(t)
	delay1, arrivals1 := schedInfo(t, srv.Pid)
	s, ok := findSeries(gather(t, p), map[string]string{TagComm: comm})
	require.True(t, ok)
	counters := p.Status().Counters
	arrivals, delay := arrivals1-arrivals0, delay1-delay0
	sumNs := uint64(math.Round(s.Sum * 1e9))
	t.Logf("schedstat: %d arrivals, run_delay %d ns; probe: %d samples, sum %d ns; untimed +%d",
		arrivals, delay, s.Count, sumNs, counters["untimed_switches"]-counters0["untimed_switches"])
	require.GreaterOrEqual(t, arrivals, uint64(rounds), "an arrival per sleep")
	require.LessOrEqual(t, s.Count, arrivals)
	require.LessOrEqual(t, arrivals-s.Count, uint64(1), "a sample per timed arrival")
	require.LessOrEqual(t, sumNs, delay, "no more wait than the kernel counted")
	if s.Count == arrivals {
		require.Equal(t, delay, sumNs, "the kernel's run_delay, to the nanosecond")
	}
	require.Equal(t, counters0["migrated_waits"], counters["migrated_waits"], "a pinned task never moves")
	require.Equal(t, counters0["clock_backwards"], counters["clock_backwards"])
}

// A task queued behind a SCHED_FIFO spin is moved to another CPU halfway
// through it, once per round. The probe's own enqueue times measure the
// whole wait (at least half the spin); the scheduler restarts its stamp on
// the new CPU, so with start_times = "kernel" the sample is the short wait
// there, and each such move is counted in migrated_waits, exactly.
func TestMigratedWaitsAreCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds, spinMs = 6, 20
	eachFlavour(t, func(t *testing.T, fl flavour) {
		cpu := testCPU(t)
		comm := uniqueComm("ebpfl-move")
		cfg := DefaultConfig()
		cfg.Comms = []string{comm}
		p := startProbe(t, fl.pin(cfg))
		before := p.Status().Counters

		switches, _ := runHelperArgs(t, "move", strconv.Itoa(cpu), strconv.Itoa(otherCPU(t, cpu)),
			strconv.Itoa(rounds), strconv.Itoa(spinMs), comm)
		s, ok := findSeries(gather(t, p), map[string]string{TagComm: comm})
		require.True(t, ok)
		after := p.Status().Counters
		migrated := after["migrated_waits"] - before["migrated_waits"]
		untimedIn := after["untimed_switches"] - before["untimed_switches"]
		long := s.Count - s.Buckets["0.008192"] // at least half the spin
		t.Logf("%d samples (%d above 8.192 ms), migrated_waits +%d, untimed +%d, switch-outs %d",
			s.Count, long, migrated, untimedIn, switches)
		require.LessOrEqual(t, s.Count, switches)
		if fl.startTimes == StartTimesKernel {
			require.Equal(t, uint64(rounds), migrated, "each move of a waiting task counted once")
			require.Zero(t, long, "only the wait on the new CPU is measured")
			require.GreaterOrEqual(t, s.Count+untimedIn+1, uint64(rounds), "a sample per round")
			return
		}
		require.Zero(t, migrated, "counted by the stamp flavour only")
		require.LessOrEqual(t, long, uint64(rounds))
		require.GreaterOrEqual(t, long+untimedIn+1, uint64(rounds), "every round's whole wait")
	})
}

// An enqueue time later than the clock at switch-in (stood in for by a
// switch-in clock that lags an hour) is counted in clock_backwards and
// never recorded, on every flavour.
func TestClockBackwardsIsCountedNotRecorded(t *testing.T) {
	testenv.RequirePrivileged(t)
	const rounds = 50
	eachFlavour(t, func(t *testing.T, fl flavour) {
		cpu := testCPU(t)
		comm := uniqueComm("ebpfl-back")
		cfg := DefaultConfig()
		cfg.Comms = []string{comm}
		p := startProbe(t, fl.pin(cfg), func(p *runqProbe) { p.clockLag = time.Hour })
		startHog(t, cpu)
		before := p.Status().Counters["clock_backwards"]
		switches := runHelper(t, "sleep", cpu, rounds, "1000", comm)
		backwards := p.Status().Counters["clock_backwards"] - before
		t.Logf("%d switch-outs, clock_backwards +%d (all tasks)", switches, backwards)
		require.Empty(t, commsSeen(gather(t, p)), "nothing recorded")
		require.GreaterOrEqual(t, backwards, uint64(rounds), "each of the sleeper's switch-ins counted")
	})
}

// renamedMember is this kernel's BTF with typ.member renamed away, as a
// kernel without it would show.
func renamedMember(t *testing.T, typ, member string) *btf.Spec {
	t.Helper()
	kernelSpec, err := btf.LoadKernelSpec()
	require.NoError(t, err)
	fake := kernelSpec.Copy() // never edit the shared, cached kernel spec
	var s *btf.Struct
	require.NoError(t, fake.TypeByName(typ, &s))
	for i := range s.Members {
		if s.Members[i].Name == member {
			s.Members[i].Name = "no_" + member
			return fake
		}
	}
	t.Fatalf("kernel struct %s has no %s", typ, member)
	return nil
}

// Where the kernel has no stamps (a field missing from its BTF, or stamps
// not kept at run time), "auto" falls back to task storage and says why,
// and a pinned start_times = "kernel" refuses to start, naming key, value
// and reason.
func TestWithoutStampsAutoFallsBack(t *testing.T) {
	testenv.RequirePrivileged(t)
	still := filepath.Join(t.TempDir(), "schedstat")
	require.NoError(t, os.WriteFile(still, []byte("1000 2000 3\n"), 0o644))
	for _, tt := range []struct {
		name      string
		setup     func(p *runqProbe)
		wantError string
	}{
		{"no CONFIG_SCHED_INFO", func(p *runqProbe) { p.kernelTypes = renamedMember(t, "sched_info", "last_queued") },
			"this kernel has no sched_info.last_queued (CONFIG_SCHED_INFO)"},
		{"no CONFIG_FAIR_GROUP_SCHED", func(p *runqProbe) { p.kernelTypes = renamedMember(t, "cfs_rq", "rq") },
			"this kernel has no cfs_rq.rq (CONFIG_FAIR_GROUP_SCHED)"},
		{"stamps not kept", func(p *runqProbe) { p.schedstat = still },
			still + " counts no arrival across a sleep"},
		{"no schedstat", func(p *runqProbe) { p.schedstat = still + ".missing" },
			"no per-task schedstat (CONFIG_SCHED_INFO)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := &testutil.CaptureLogger{}
			p := newProbe(DefaultConfig(), log).(*runqProbe)
			tt.setup(p)
			require.NoError(t, p.Start())
			st := p.Status()
			require.NoError(t, p.Stop())
			require.Equal(t, flavour{"tp_btf", taskstarts.TaskStorage}, flavour{st.Hook, st.StartTimes})
			require.Condition(t, func() bool {
				for _, w := range log.Warnings() {
					if strings.Contains(w, "runq: the scheduler's enqueue stamps are unavailable: "+tt.wantError) {
						return true
					}
				}
				return false
			}, "warnings: %v", log.Warnings())

			cfg := DefaultConfig()
			cfg.StartTimes = StartTimesKernel
			pinned := newProbe(cfg, testutil.Logger{}).(*runqProbe)
			tt.setup(pinned)
			err := pinned.Start()
			require.ErrorContains(t, err, `start_times: "kernel" unavailable: the scheduler's enqueue stamps are unavailable: `+tt.wantError)
			require.NoError(t, pinned.Stop())
		})
	}
}
