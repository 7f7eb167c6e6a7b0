package slowevent_test

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// Off costs nothing: with slow_threshold unset, the programs the kernel runs
// (as the verifier left them) hold no ring buffer call; with it set, the
// programs that end an operation do. Read from the kernel's translated
// instructions, per program, for every object that has slow events.
func TestSlowEventCodeIsPrunedWhenOff(t *testing.T) {
	testenv.RequirePrivileged(t)
	for name, tt := range map[string]struct {
		load    func() (*ebpf.CollectionSpec, error)
		emitter string // a program that sends events when on
	}{
		"disk":        {diskbpf.LoadDisk, diskbpf.DiskProgDiskCompleteBtf},
		"syscall":     {syscallbpf.LoadSyscall, syscallbpf.SyscallProgSyscallExitBtf},
		"func":        {funcbpf.LoadFunc, funcbpf.FuncProgFuncReturn},
		"tcp_connect": {tcpbpf.LoadConnect, tcpbpf.ConnectProgTcpConnectBtf},
		"runq":        {runqbpf.LoadRunq, runqbpf.RunqProgRunqSwitchBtf},
		"tcp_rtt":     {tcpbpf.LoadRtt, tcpbpf.RttProgTcpRttSockops},
	} {
		t.Run(name, func(t *testing.T) {
			off := ringbufCalls(t, tt.load, slowevent.DefaultConfig())
			for prog, calls := range off {
				require.Zero(t, calls, "%s: ring buffer calls left with slow events off", prog)
			}
			on := slowevent.DefaultConfig()
			on.Threshold = "1ms"
			require.Positive(t, ringbufCalls(t, tt.load, on)[tt.emitter], "%s sends events when on", tt.emitter)
		})
	}
}

// ringbufCalls loads the object with cfg and counts, per program, the
// references to the slow_events ring buffer the verifier kept.
func ringbufCalls(t *testing.T, load func() (*ebpf.CollectionSpec, error), cfg slowevent.Config) map[string]int {
	t.Helper()
	return testenv.MapReferences(t, load, cfg.Prepare, "slow_events")
}
