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
  unchanged_series_every = "%s"
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
	// Every is unchanged_series_every; Step makes Advance add samples to
	// one series in Step (1: all).
	Every, Step int
	Plugin      *PluginProcess
	hists       *ebpf.Map
	keys        []syscallbpf.SyscallSyscallHistKey
	values      *histogram.Values // len(keys) * CPUs
}

// StartShimGather starts bin and fills its map with n series (n at most
// 4,096 comms times 10 syscalls, and what the map's memory budget grants);
// every seconds is its unchanged_series_every, step as in ShimGather.
func StartShimGather(t testing.TB, bin string, n, every, step int) *ShimGather {
	t.Helper()
	conf := t.TempDir() + "/plugin.conf"
	if err := os.WriteFile(conf, fmt.Appendf(nil, shimConfig, time.Duration(every)*time.Second), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &ShimGather{Series: n, Every: every, Step: step, Plugin: StartPlugin(t, bin, "-config", conf)}
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
	cpus := len(g.values.PerCPU) / g.Series
	for i := range g.values.PerCPU {
		if (i/cpus)%g.Step != 0 {
			continue
		}
		v := g.values.Value(i)
		v[sh.SlotWord(0, gatherLo+i%(gatherHi-gatherLo+1))]++
		v[sh.HeadWord(0, histogram.HeadSumNs)] += 20_000
	}
	_, err := g.hists.BatchUpdate(g.keys, g.values.PerCPU, nil)
	return err
}

// LinesPerGather is what a gather after the first must write: per series
// (with unchanged_series_every, per series that gained samples) its 32
// bucket lines and a summary line, then the probe's self-metric line.
func (g *ShimGather) LinesPerGather() int {
	written := g.Series
	if g.Every > 0 {
		written = (g.Series + g.Step - 1) / g.Step
	}
	return written*(histogram.Slots+1) + 1
}
