//go:build linux

package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// MemoryCgroup is a memory cgroup a test made to run a BPF map out of
// kernel memory on purpose. A map charges what it allocates, elements its
// programs create later included (task and socket storage), to the memory
// cgroup of the process that created it: create the map inside (Charging),
// then take the room away (Exhaust). Cgroup v1's memory controller where it
// is mounted on its own (hybrid hosts), else cgroup v2's.
type MemoryCgroup struct {
	Dir          string
	v1           bool
	home         string // the memory cgroup this process came from (Charging returns to it)
	failedBefore uint64 // Failures when Starve left no room
}

// NewMemoryCgroup makes a fresh memory cgroup; at test end the processes
// still in it are killed by PID and the directory is removed. It fails the
// test on a host whose memory controller is on neither hierarchy.
func NewMemoryCgroup(t testing.TB) *MemoryCgroup {
	t.Helper()
	m := &MemoryCgroup{}
	root, err := memoryV1Mount()
	require.NoError(t, err)
	m.v1 = root != ""
	if !m.v1 {
		if root, err = kernel.Cgroup2Mount(); err == nil {
			err = requireMemoryDelegated(root)
		}
		require.NoError(t, err, "no memory controller to limit BPF maps with")
	}
	own, err := ownMemoryCgroup(m.v1)
	require.NoError(t, err)
	m.home = filepath.Join(root, own)
	m.Dir = filepath.Join(root, uniqueName("tm"))
	require.NoError(t, os.Mkdir(m.Dir, 0o755))
	t.Cleanup(func() { m.remove(t) })
	return m
}

// Starve runs load (a probe's Start) with the maps it makes charged to
// this cgroup, then leaves the cgroup no room (Charging, Exhaust).
func (m *MemoryCgroup) Starve(t testing.TB, load func()) {
	t.Helper()
	m.Charging(t, load)
	m.Exhaust(t)
	m.failedBefore = m.Failures(t)
}

// RequireRefused checks a starved task-storage map after threads threads
// of process pid (other than its main thread) each made one operation
// that wanted a record there: every thread counted, some refused (more
// threads than the allocator's charged per-CPU caches hold), some kept
// (what those caches held when the map was made), and the cgroup's limit
// refused charges (memory, not something else, was short). It returns the
// threads with and without a record: the kernel's own count of starts
// kept and refused.
func (m *MemoryCgroup) RequireRefused(t testing.TB, storage *ebpf.Map, pid, threads int) (kept, refused int) {
	t.Helper()
	kept, refused = CountTaskStorage(t, storage, pid)
	failed := m.Failures(t) - m.failedBefore
	t.Logf("%d threads: %d kept a record, %d refused; the memory cgroup refused %d charges", threads, kept, refused, failed)
	require.Equal(t, threads, kept+refused, "threads")
	require.Positive(t, refused, "threads refused a record")
	require.Positive(t, kept, "threads given a record")
	require.Positive(t, failed, "charges refused by the memory cgroup's limit")
	return kept, refused
}

// Charging runs create with this goroutine's thread inside the cgroup (v1;
// v2 moves whole processes only) and moves it back after: the BPF maps
// create makes there charge this cgroup for good. v1 charges the process's
// own pages to its leader's cgroup, so they stay out of this one, and with
// them the Go runtime's frees that would make room later. Nothing limits
// the cgroup yet, so nothing create allocates can fail.
func (m *MemoryCgroup) Charging(t testing.TB, create func()) {
	t.Helper()
	defer lockToNonLeaderThread()()
	file, id := "cgroup.procs", os.Getpid()
	if m.v1 {
		file, id = "tasks", unix.Gettid()
	}
	move := func(dir string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(strconv.Itoa(id)), 0), "moving %d to %s", id, dir)
	}
	move(m.Dir)
	defer move(m.home)
	create()
}

// Exhaust leaves the cgroup no room: every later charge fails, except what
// allocators already hold charged (per-CPU caches of BPF's allocator,
// parts of a page kept by the slab accounting).
//
// v1 refuses a limit under the usage (kernel memory cannot be reclaimed),
// but trying one first drains the CPUs' stocks of pre-charged pages
// (drain_all_stock): the writing CPU's at once, the others' later from a
// work item, so it is tried from each CPU in turn. The limit is then set to
// what is really in use, and lowered again should a late drain free more.
// v2 takes memory.max = 0 as it is: with no process inside, nothing is
// killed.
func (m *MemoryCgroup) Exhaust(t testing.TB) {
	t.Helper()
	if !m.v1 {
		require.NoError(t, os.WriteFile(filepath.Join(m.Dir, "memory.max"), []byte("0"), 0))
		return
	}
	limit := filepath.Join(m.Dir, "memory.limit_in_bytes")
	onEachCPU(t, func() {
		err := os.WriteFile(limit, []byte("0"), 0)
		require.True(t, err == nil || errors.Is(err, unix.EBUSY), "lowering %s: %v", limit, err)
	})
	for range 50 {
		usage := m.read(t, "memory.usage_in_bytes")
		err := os.WriteFile(limit, []byte(strconv.FormatUint(usage, 10)), 0)
		require.True(t, err == nil || errors.Is(err, unix.EBUSY), "limiting %s: %v", limit, err)
		if err == nil && m.settled(t, usage) {
			t.Logf("memory cgroup %s: limit = usage = %d bytes", m.Dir, usage)
			return
		}
	}
	t.Fatalf("memory cgroup %s: usage did not settle under a limit", m.Dir)
}

// lockToNonLeaderThread locks the calling goroutine to a thread other than
// the process's first one (v1 charges the process's pages to that thread's
// cgroup), until the returned unlock. A goroutine that finds itself on the
// first thread is parked there so the caller runs elsewhere. Threads the
// runtime makes while the caller is locked come from its template thread.
func lockToNonLeaderThread() (unlock func()) {
	release := make(chan struct{})
	for {
		runtime.LockOSThread()
		if unix.Gettid() != os.Getpid() {
			return func() { runtime.UnlockOSThread(); close(release) }
		}
		runtime.UnlockOSThread()
		onLeader := make(chan bool)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			mine := unix.Gettid() == os.Getpid()
			onLeader <- mine
			if mine {
				<-release
			}
		}()
		<-onLeader
	}
}

// onEachCPU runs fn on every CPU this process may use, one after another.
func onEachCPU(t testing.TB, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var allowed unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &allowed))
	defer func() { require.NoError(t, unix.SchedSetaffinity(0, &allowed)) }()
	for cpu := 0; cpu < len(allowed)*64; cpu++ {
		if !allowed.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		require.NoError(t, unix.SchedSetaffinity(0, &one))
		fn()
	}
}

// settled waits a little for frees still under way (RCU callbacks of what
// creating the maps allocated); false when the usage moved meanwhile.
func (m *MemoryCgroup) settled(t testing.TB, usage uint64) bool {
	t.Helper()
	for range 5 {
		time.Sleep(20 * time.Millisecond)
		if m.read(t, "memory.usage_in_bytes") != usage {
			return false
		}
	}
	return true
}

// Failures is how many charges the limit refused (v1 memory.failcnt, v2
// the max events): the kernel's own witness that memory, not something
// else, was short.
func (m *MemoryCgroup) Failures(t testing.TB) uint64 {
	t.Helper()
	if m.v1 {
		return m.read(t, "memory.failcnt")
	}
	data, err := os.ReadFile(filepath.Join(m.Dir, "memory.events"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "max "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no max line in %s/memory.events", m.Dir)
	return 0
}

func (m *MemoryCgroup) read(t testing.TB, file string) uint64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Dir, file))
	require.NoError(t, err)
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	require.NoError(t, err, "%s/%s", m.Dir, file)
	return n
}

// remove kills what is left inside by PID and removes the directory; its
// charges (the maps') go with the maps.
func (m *MemoryCgroup) remove(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(filepath.Join(m.Dir, "cgroup.procs"))
		require.NoError(t, err)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
		err = unix.Rmdir(m.Dir)
		if err == nil {
			return
		}
		if err != unix.EBUSY || time.Now().After(deadline) {
			t.Errorf("removing memory cgroup %s: %v (processes: %s)", m.Dir, err, data)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memoryV1Mount is where cgroup v1's memory controller is mounted, or ""
// when it is not (the controller is then cgroup v2's, if anywhere).
func memoryV1Mount() (string, error) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[2] == "cgroup" && hasOption(f[3], "memory") {
			return f[1], nil
		}
	}
	return "", nil
}

// requireMemoryDelegated checks that cgroup v2's root hands the memory
// controller to its children (a test does not change that for the host).
func requireMemoryDelegated(root string) error {
	data, err := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
	if err != nil {
		return err
	}
	if !hasOption(strings.ReplaceAll(strings.TrimSpace(string(data)), " ", ","), "memory") {
		return errors.New("cgroup v2 root " + root + " does not enable the memory controller for its children (cgroup.subtree_control)")
	}
	return nil
}

// ownMemoryCgroup is this process's memory cgroup, from its hierarchy's
// root: the v1 line naming the memory controller, or the v2 line ("0::").
func ownMemoryCgroup(v1 bool) (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if (v1 && hasOption(parts[1], "memory")) || (!v1 && parts[0] == "0" && parts[1] == "") {
			return parts[2], nil
		}
	}
	return "", errors.New("/proc/self/cgroup names no memory cgroup")
}

func hasOption(list, name string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == name {
			return true
		}
	}
	return false
}
