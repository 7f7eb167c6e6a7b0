package syscall

import (
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/taskstarts"
)

// Every store on every hook that offers it counts every syscall (auto
// picks task storage under tp_btf, the hash under raw_tp). Either keeps the
// thread's consumed record for its next syscall (task storage read here
// through a pidfd).
func TestStartTimesInEveryStore(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, hook := range []string{HookTPBTF, HookRawTP} {
		for _, store := range []string{taskstarts.Auto, taskstarts.TaskStorage, taskstarts.Hash} {
			if hook == HookRawTP && store == taskstarts.TaskStorage {
				continue // refused: TestTaskStorageRefusedOnRawTP
			}
			t.Run(hook+","+store, func(t *testing.T) {
				comm := uniq("store")
				h := startHelper(t, comm)
				cfg := config([]string{"fdatasync"}, []string{comm})
				cfg.Hook, cfg.StartTimes = hook, store
				p := startProbe(t, cfg)
				local := hook == HookTPBTF && store != taskstarts.Hash
				require.Equal(t, local, p.store.Local)
				runs := taskstarts.Hash
				if local { // the record found in task storage below confirms it
					runs = taskstarts.TaskStorage
				}
				require.Equal(t, runs, p.Status().StartTimes)
				h.do(t, "fdatasync %d", syncs)
				require.Equal(t, uint64(syncs), count(gather(t, p), "fdatasync", comm))

				var rec syscallbpf.SyscallSyscallStart
				if local {
					pidfd, err := unix.PidfdOpen(h.Pid, 0)
					require.NoError(t, err)
					defer unix.Close(pidfd)
					require.NoError(t, p.att.Collection.Maps["task_starts_storage"].Lookup(uint32(pidfd), &rec))
				} else {
					require.NoError(t, p.att.Collection.Maps["task_starts_hash"].Lookup(uint32(h.Pid), &rec))
				}
				require.Equal(t, syscallNumbers["fdatasync"], rec.Nr)
				require.Zero(t, rec.Ns, "consumed")
			})
		}
	}
}

// More threads sit in a timed syscall at once than the fallback hash holds:
// exactly the ones beyond it are not timed, and each is counted in
// start_full. Task storage times the same crowd whole.
func TestCrowdBeyondStartRecords(t *testing.T) {
	testenv.RequirePrivileged(t)
	const crowd, entries = 6, 4
	for _, store := range []string{taskstarts.TaskStorage, taskstarts.Hash} {
		t.Run(store, func(t *testing.T) {
			comm := uniq("crowd")
			hs := make([]*helper, crowd)
			for i := range hs {
				hs[i] = startHelper(t, comm)
			}
			cfg := config([]string{"clock_nanosleep"}, []string{comm})
			cfg.StartTimes = store
			p := startProbe(t, cfg, func(p *syscallProbe) { p.startEntries = entries })
			for _, h := range hs {
				h.send(t, "sleep 1 300")
				waitInSyscall(t, h.Pid, syscallNumbers["clock_nanosleep"])
			}
			for _, h := range hs {
				h.wait(t)
			}
			timed, full := uint64(crowd), uint64(0)
			if store == taskstarts.Hash {
				timed, full = entries, crowd-entries
			}
			require.Equal(t, timed, count(gather(t, p), "clock_nanosleep", comm))
			st := p.Status().Counters
			require.Equal(t, full, st[taskstarts.CounterFull])
			require.Zero(t, st[taskstarts.CounterRefused])
		})
	}
}

// start_times = "task_storage" with a hook that cannot use it: Start says
// why.
func TestTaskStorageRefusedOnRawTP(t *testing.T) {
	testenv.RequirePrivileged(t)
	cfg := config([]string{"fdatasync"}, nil)
	cfg.Hook, cfg.StartTimes = HookRawTP, taskstarts.TaskStorage
	require.NoError(t, cfg.Validate())
	p := newProbe(cfg, testutil.Logger{}).(*syscallProbe)
	err := p.Start()
	require.ErrorContains(t, err, `start_times: "task_storage" unavailable: this hook passes no BTF task pointers`)
	require.NoError(t, p.Stop())
}

// Threads come and go: each one's hash record goes when it exits, so a
// hash of 4 records times the syscalls of any number of threads, one after
// another, and nothing is refused.
func TestExitedThreadsFreeTheirRecords(t *testing.T) {
	testenv.RequirePrivileged(t)
	const threads, entries = 10, 4
	comm := uniq("churn")
	cfg := config([]string{"fdatasync"}, []string{comm})
	cfg.StartTimes = taskstarts.Hash
	p := startProbe(t, cfg, func(p *syscallProbe) { p.startEntries = entries })
	for i := 0; i < threads; i++ {
		h := startHelper(t, comm)
		h.do(t, "fdatasync %d", 3)
		require.NoError(t, h.In.Close()) // sysloop exits at end of input
		var status unix.WaitStatus
		_, err := unix.Wait4(h.Pid, &status, 0, nil)
		require.NoError(t, err)
	}
	require.Equal(t, uint64(3*threads), count(gather(t, p), "fdatasync", comm))
	require.Zero(t, p.Status().Counters[taskstarts.CounterFull])
	n := 0
	var (
		tid uint32
		rec syscallbpf.SyscallSyscallStart
	)
	for it := p.att.Collection.Maps["task_starts_hash"].Iterate(); it.Next(&tid, &rec); {
		n++
	}
	require.Zero(t, n, "no record left behind")
}

// Task storage refuses a record when the kernel cannot allocate one (as
// the func probe's TestStartRefusedWithoutMemory): the probe's maps are
// made inside a memory cgroup then left no room, and 400 threads of a
// sysloop make one fdatasync each and stay. start_refused counts exactly
// the threads the kernel's own task storage holds no record for; the
// others' syscalls are recorded; nothing else counts.
func TestStartRefusedWithoutMemory(t *testing.T) {
	testenv.RequirePrivileged(t)
	const threads = 400
	comm := uniq("refused")
	cfg := config([]string{"fdatasync"}, []string{comm})
	cfg.StartTimes = taskstarts.TaskStorage
	mem := testenv.NewMemoryCgroup(t)
	var p *syscallProbe
	mem.Starve(t, func() { p = startProbe(t, cfg) })
	require.True(t, p.store.Local)
	h := startHelper(t, comm) // outside the cgroup: its threads cost it nothing
	h.do(t, "threads %d", threads)
	// The main thread made no timed syscall.
	kept, refused := mem.RequireRefused(t, p.att.Collection.Maps[syscallbpf.SyscallMapTaskStartsStorage], h.Pid, threads)

	require.Equal(t, uint64(kept), count(gather(t, p), "fdatasync", comm))
	st := p.Status().Counters
	require.Equal(t, uint64(refused), st[taskstarts.CounterRefused])
	require.Zero(t, st[taskstarts.CounterFull])
	for _, name := range counterNames {
		require.Zero(t, st[name], name)
	}
}
