package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// shimConfig runs the syscall probe alone, with room for thousands of
// comms, on a process ID no process has: the kernel records nothing, and
// every series is one the harness wrote.
const shimConfig = `[[inputs.ebpf_latency]]
  probes = ["syscall"]
  [inputs.ebpf_latency.syscall]
    max_comms = 4096
    pids = [4194303]
`

// shimSyscalls are the probe's default syscalls, by number on this machine.
var shimSyscalls = []uint32{
	unix.SYS_FSYNC, unix.SYS_FDATASYNC, unix.SYS_SYNC_FILE_RANGE, unix.SYS_PWRITE64, unix.SYS_PWRITEV,
	unix.SYS_IO_SUBMIT, unix.SYS_IO_GETEVENTS, unix.SYS_IO_URING_ENTER, unix.SYS_SENDMSG, unix.SYS_RECVMSG,
}

// ShimGather is the plugin binary under its shim with n series in the
// syscall probe's histogram map, written there by the harness.
type ShimGather struct {
	Series int
	Plugin *PluginProcess
	hists  *ebpf.Map
	keys   []syscallbpf.SyscallSyscallHistKey
	values *histogram.Values // len(keys) * CPUs
}

// StartShimGather starts bin and fills its map with n series (n at most
// 4,096 comms times 10 syscalls, and what the map's memory budget grants).
func StartShimGather(t testing.TB, bin string, n int) *ShimGather {
	t.Helper()
	conf := t.TempDir() + "/plugin.conf"
	if err := os.WriteFile(conf, []byte(shimConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &ShimGather{Series: n, Plugin: StartPlugin(t, bin, "-config", conf)}
	t.Cleanup(func() {
		if g.hists != nil {
			g.hists.Close()
		}
	})
	var err error
	if g.hists, err = testenv.ProcessMap(g.Plugin.Pid(), syscallbpf.SyscallMapSyscallHists, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if want := uint32(8 * histogram.One(histogram.Log2).Words()); g.hists.ValueSize() != want {
		t.Fatalf("%s holds %d-byte values; the harness writes %d", syscallbpf.SyscallMapSyscallHists, g.hists.ValueSize(), want)
	}
	if int(g.hists.MaxEntries()) < n {
		t.Fatalf("%s holds %d series, not %d", syscallbpf.SyscallMapSyscallHists, g.hists.MaxEntries(), n)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		k := syscallbpf.SyscallSyscallHistKey{Nr: shimSyscalls[i%len(shimSyscalls)]}
		for j, c := range fmt.Sprintf("bench-c%05d", i/len(shimSyscalls)) {
			k.Comm[j] = int8(c)
		}
		g.keys = append(g.keys, k)
	}
	g.values = histogram.NewValues(histogram.One(histogram.Log2), n*cpus)
	sh := g.values.Shape
	for i := range n * cpus {
		v := g.values.Value(i)
		for s := gatherLo; s <= gatherHi; s++ {
			v[sh.SlotWord(0, s)] = uint64(i%cpus + s)
		}
		v[sh.HeadWord(0, histogram.HeadSumNs)] = 1_000_000
	}
	if err := g.Advance(); err != nil {
		t.Fatal(err)
	}
	return g
}

// Advance adds a sample to every series (every CPU's share): each gather
// then has an interval to write, quantiles included, as on a busy host.
func (g *ShimGather) Advance() error {
	sh := g.values.Shape
	for i := range g.values.PerCPU {
		v := g.values.Value(i)
		v[sh.SlotWord(0, gatherLo+i%(gatherHi-gatherLo+1))]++
		v[sh.HeadWord(0, histogram.HeadSumNs)] += 20_000
	}
	_, err := g.hists.BatchUpdate(g.keys, g.values.PerCPU, nil)
	return err
}

// LinesPerGather is what a gather must write: per series its 32 bucket
// lines and a summary line, then the probe's self-metric line.
func (g *ShimGather) LinesPerGather() int { return g.Series*(histogram.Slots+1) + 1 }
