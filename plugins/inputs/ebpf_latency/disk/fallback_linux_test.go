package disk

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// passthroughDisk is a virtio disk whose `serial` attribute the driver
// answers with a passthrough request (VIRTIO_BLK_T_GET_ID): a request the
// block layer never gives io_start_time_ns, which is the condition of a
// queue without statistics. On Linux 6.18 no sysfs switch clears a loop
// device's statistics flag (QUEUE_FLAG_STATS stays set with iostats=0 and
// wbt_lat_usec=0), so this is the way to force it.
func passthroughDisk(t *testing.T) string {
	t.Helper()
	serials, _ := filepath.Glob("/sys/block/vd*/serial")
	if len(serials) == 0 {
		t.Skip("needs a virtio disk (/sys/block/vd*/serial) to issue requests without kernel timestamps")
	}
	return filepath.Base(filepath.Dir(serials[0]))
}

func readSerial(t *testing.T, disk string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := os.ReadFile("/sys/block/" + disk + "/serial")
		require.NoError(t, err)
	}
}

// start_times = "auto" times requests with the kernel's timestamps and, from
// the first completion that came without one, with its own as well.
func TestAutoFallsBackToProbeStartTimes(t *testing.T) {
	testenv.RequirePrivileged(t)
	disk := passthroughDisk(t)
	const before, after = 3, 4
	dev := loopOnTmpfs(t)
	cfg := DefaultConfig()
	cfg.Devices = []string{disk, dev.Name}
	p := startProbe(t, cfg)
	require.Equal(t, StartTimesKernel, p.Status().StartTimes)
	issue := p.att.Collection.Programs[diskbpf.DiskProgDiskIssueBtf]
	require.Zero(t, linksOf(t, issue), "the fallback's issue hook costs nothing until needed")
	other := map[string]string{"device": disk, "op": "other", "stage": StageService}

	readSerial(t, disk, before)
	acc := gather(t, p)
	require.Equal(t, uint64(before), p.Status().Counters["untimed_completions"], "requests without kernel timestamps")
	_, ok := findSeries(acc, other)
	require.False(t, ok, "not measured before the fallback")
	require.Equal(t, "kernel+probe", p.Status().StartTimes)
	require.Equal(t, 1, linksOf(t, issue), "attached at the fallback")

	readSerial(t, disk, after)
	acc = gather(t, p)
	s, ok := findSeries(acc, other)
	require.True(t, ok, "measured after the fallback")
	require.Equal(t, uint64(after), s.Count)
	require.Equal(t, uint64(before), p.Status().Counters["untimed_completions"])

	// Requests the kernel does time keep the kernel's timestamps: the queue
	// stage, which only they give a loop device, is still measured.
	testenv.IssueDirect(t, dev.Path, false, 5, 0)
	acc = gather(t, p)
	q, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": "read", "stage": StageQueue})
	require.True(t, ok, "kernel timestamps still used")
	require.Equal(t, uint64(5), q.Count)
}

// "kernel" never falls back: it counts and warns.
func TestKernelStartTimesDoNotFallBack(t *testing.T) {
	testenv.RequirePrivileged(t)
	disk := passthroughDisk(t)
	cfg := DefaultConfig()
	cfg.Devices, cfg.StartTimes = []string{disk}, StartTimesKernel
	p := startProbe(t, cfg)
	readSerial(t, disk, 2)
	gather(t, p)
	readSerial(t, disk, 2)
	acc := gather(t, p)
	_, ok := findSeries(acc, map[string]string{"device": disk, "op": "other", "stage": StageService})
	require.False(t, ok)
	require.Equal(t, uint64(4), p.Status().Counters["untimed_completions"])
	require.Equal(t, StartTimesKernel, p.Status().StartTimes)
}

// linksOf counts the kernel's links that run prog.
func linksOf(t *testing.T, prog *ebpf.Program) int {
	t.Helper()
	info, err := prog.Info()
	require.NoError(t, err)
	id, ok := info.ID()
	require.True(t, ok)
	n := 0
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		if li, err := it.Link.Info(); err == nil && li.Program == id {
			n++
		}
	}
	require.NoError(t, it.Err())
	return n
}
