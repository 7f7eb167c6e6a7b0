package disk

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A read the loop driver's backing file answers short completes in parts:
// the loop driver ends the bytes it got (a partial completion), requeues
// the rest, and the retry, finding end of file, ends the request with EIO.
// Every hook must measure that request once, at its last completion, and
// send its slow event (every request is slow over 1ns) then, owned by the
// task that issued what was left (the loop driver's kworker requeues it)
// and not lost on the way.
func TestPartialCompletionMeasuredOnceAtTheEnd(t *testing.T) {
	testenv.RequirePrivileged(t)
	const size = 1 << 20
	for _, hook := range []string{"tp_btf", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
			require.NoError(t, os.WriteFile(img, make([]byte, size), 0o600))
			dev := testenv.NewLoopDevice(t, img)
			kernelCounting(t, dev)
			// The device keeps its size; its last block now lies half
			// beyond the backing file's end.
			require.NoError(t, os.Truncate(img, size-testenv.BlockSize/2))

			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook, cfg.Threshold = []string{dev.Name}, hook, "1ns"
			p := startProbe(t, cfg)
			readLastBlockShort(t, dev.Path, size)
			acc := gather(t, p)

			st := p.Status().Counters
			require.Equal(t, uint64(1), st["partial_completions"], "the short read's first part")
			s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": "read", "stage": StageService})
			require.True(t, ok, "no read service series")
			require.Equal(t, uint64(1), s.Count, "one request, one sample: its last completion found its start time")
			kernel, probe, unseen := completionsOf(t, acc, dev.Name, "read")
			require.Equal(t, []uint64{1, 1, 0}, []uint64{kernel, probe, unseen}, "kernel, probe, unseen")
			var service []map[string]any
			for _, e := range testenv.SlowEvents(acc) {
				if e.Tags()["stage"] == StageService {
					service = append(service, e.Fields())
				}
			}
			require.Len(t, service, 1, "one slow event for the request, at its last completion")
			require.NotZero(t, service[0]["pid"], "the owner kept")
			require.Contains(t, service[0]["comm"], "kworker")
			require.Equal(t, uint64((size-testenv.BlockSize/2)/512), service[0]["sector"], "the rest's first sector")
			require.Equal(t, uint64(testenv.BlockSize/2), service[0]["bytes"], "the rest's size")
			require.Zero(t, st["owner_inflight_full"])
		})
	}
}

// readLastBlockShort reads the device's last block with O_DIRECT and expects
// the EIO a read past the backing file's end ends with.
func readLastBlockShort(t *testing.T, devPath string, size int64) {
	t.Helper()
	fd, err := unix.Open(devPath, unix.O_RDONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	buf, err := unix.Mmap(-1, 0, testenv.BlockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	require.NoError(t, err)
	defer unix.Munmap(buf)
	_, err = unix.Pread(fd, buf, size-testenv.BlockSize)
	require.True(t, errors.Is(err, unix.EIO), "read across the backing file's end: %v", err)
}
