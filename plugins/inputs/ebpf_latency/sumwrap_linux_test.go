package ebpf_latency_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf" // to seed a series in the probe's map
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	ebpflatency "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// The kernel sums a series' nanoseconds in a per-CPU u64 (hist_record).
// Seeded 5 µs short of 2^64 on every CPU, the syscall probe's sum wraps in
// the kernel during a workload pinned to CPU 0, and seconds_sum grows by
// what the workload's syscalls took: no drop to zero, no counter reset.
func TestSecondsSumSurvivesTheKernelSumWrapping(t *testing.T) {
	testenv.RequirePrivileged(t)
	const comm, writes = "sumwrap", 200
	plugin, err := ebpflatency.Parse(fmt.Appendf(nil, `
[[inputs.ebpf_latency]]
  probes = ["syscall"]
  [inputs.ebpf_latency.syscall]
    syscalls = ["pwrite64"]
    pids = [%d]
`, os.Getpid()))
	require.NoError(t, err)
	plugin.Log = testutil.Logger{}
	var acc testutil.Accumulator
	require.NoError(t, plugin.Start(&acc))
	t.Cleanup(plugin.Stop)
	hists, err := testenv.ProcessMap(os.Getpid(), syscallbpf.SyscallMapSyscallHists, time.Second)
	require.NoError(t, err)
	defer hists.Close()

	key := syscallbpf.SyscallSyscallHistKey{Nr: unix.SYS_PWRITE64}
	copy(key.Comm[:], []int8{'s', 'u', 'm', 'w', 'r', 'a', 'p'})
	cpus, err := ebpf.PossibleCPU()
	require.NoError(t, err)
	seeded := histogram.NewValues(histogram.One(histogram.Log2), cpus)
	sum := seeded.Shape.HeadWord(0, histogram.HeadSumNs)
	require.Equal(t, uint32(8*seeded.Shape.Words()), hists.ValueSize(), "a log2 value")
	for i := range cpus {
		seeded.Value(i)[sum] = 1<<64 - 5000
	}
	require.NoError(t, hists.Update(&key, seeded.PerCPU, ebpf.UpdateNoExist))

	before := sumAndCount(t, plugin, comm)
	f, err := os.CreateTemp("/dev/shm", "sumwrap")
	require.NoError(t, err)
	defer os.Remove(f.Name())
	defer f.Close()
	var took time.Duration
	testenv.AsNamedThread(t, comm, func() {
		var cpu0, old unix.CPUSet
		require.NoError(t, unix.SchedGetaffinity(0, &old))
		cpu0.Set(0)
		require.NoError(t, unix.SchedSetaffinity(0, &cpu0))
		defer func() { require.NoError(t, unix.SchedSetaffinity(0, &old)) }()
		page := make([]byte, 4096)
		start := time.Now()
		for range writes {
			_, err := unix.Pwrite(int(f.Fd()), page, 0)
			require.NoError(t, err)
		}
		took = time.Since(start)
	})
	after := sumAndCount(t, plugin, comm)

	now := histogram.NewValues(seeded.Shape, cpus)
	require.NoError(t, hists.Lookup(&key, now.PerCPU))
	require.Less(t, now.Value(0)[sum], uint64(1<<63), "CPU 0's sum wrapped in the kernel")
	require.Equal(t, before.count+writes, after.count, "seconds_count: one per pwrite64")
	grew := after.sum - before.sum
	require.Positive(t, grew, "seconds_sum kept growing across the wrap (%v -> %v)", before.sum, after.sum)
	// Sequential syscalls take at most the loop's wall time; the float's
	// step at 1.8e10 s is under 4 µs.
	require.LessOrEqual(t, grew, took.Seconds()+4e-6, "seconds_sum grew by at most the workload's time")
	require.Greater(t, after.sum, 1.8e10, "the wrapped 2^64 ns still counted")
}

type sumCount struct {
	sum   float64
	count uint64
}

// sumAndCount gathers and returns comm's pwrite64 seconds_sum and count.
func sumAndCount(t *testing.T, plugin *ebpflatency.EbpfLatency, comm string) sumCount {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, plugin.Gather(&acc))
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Tags()["comm"] != comm {
			continue
		}
		if sum, ok := m.GetField(histogram.FieldSum); ok {
			count, _ := m.GetField(histogram.FieldCount)
			return sumCount{sum.(float64), count.(uint64)}
		}
	}
	t.Fatalf("no summary line of comm %s in %v", comm, acc.GetTelegrafMetrics())
	return sumCount{}
}
