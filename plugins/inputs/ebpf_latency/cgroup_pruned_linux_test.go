package ebpf_latency_test

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/cgroup"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// Off costs nothing: with by_cgroup = false the programs the kernel runs
// (as the verifier left them) touch none of the cgroup maps; on, the
// program that records a sample admits cgroups, and with `cgroups` the one
// that starts an operation checks the exclusions. A probe that includes
// cgroup.bpf.h adds its row.
func TestCgroupCodeIsPrunedWhenOff(t *testing.T) {
	testenv.RequirePrivileged(t)
	for name, tt := range map[string]struct {
		load     func() (*ebpf.CollectionSpec, error)
		recorder string // a program that admits cgroups when on
		filterer string // a program that checks exclusions with `cgroups`
	}{
		"syscall":         {syscallbpf.LoadSyscall, syscallbpf.SyscallProgSyscallExitBtf, syscallbpf.SyscallProgSyscallEnterBtf},
		"tcp_connect":     {tcpbpf.LoadConnect, tcpbpf.ConnectProgTcpConnectBtf, tcpbpf.ConnectProgTcpConnectBtf},
		"tcp_rtt":         {tcpbpf.LoadRtt, tcpbpf.RttProgTcpRttSockops, tcpbpf.RttProgTcpRttSockops},
		"tcp_retransmits": {tcpbpf.LoadRetransmits, tcpbpf.RetransmitsProgTcpRetransBtf, tcpbpf.RetransmitsProgTcpRetransBtf},
		"disk":            {diskbpf.LoadDisk, diskbpf.DiskProgDiskCompleteBtf, diskbpf.DiskProgDiskCompleteBtf},
		"func":            {funcbpf.LoadFunc, funcbpf.FuncProgFuncReturn, funcbpf.FuncProgFuncReturn},
		"runq":            {runqbpf.LoadRunq, runqbpf.RunqProgRunqSwitchBtf, runqbpf.RunqProgRunqSwitchBtf},
	} {
		t.Run(name, func(t *testing.T) {
			off := cgroup.Default()
			for _, m := range []string{"cgroup_slots", "cgroup_excluded", "cgroup_counters"} {
				for prog, refs := range cgroupRefs(t, tt.load, off, m) {
					require.Zero(t, refs, "%s: %s used with by_cgroup off", prog, m)
				}
			}
			on := cgroup.Default()
			on.ByCgroup, on.Cgroups = true, []string{"/"}
			require.Positive(t, cgroupRefs(t, tt.load, on, "cgroup_slots")[tt.recorder], "%s admits cgroups when on", tt.recorder)
			require.Positive(t, cgroupRefs(t, tt.load, on, "cgroup_excluded")[tt.filterer], "%s filters when on", tt.filterer)
		})
	}
}

func cgroupRefs(t *testing.T, load func() (*ebpf.CollectionSpec, error), cfg cgroup.Attribution, mapName string) map[string]int {
	t.Helper()
	return testenv.MapReferences(t, load, cfg.Prepare, mapName)
}
