package syscall

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// BenchmarkInKernelCost reports the in-kernel ns per program run (BPF
// stats) while a helper loops on getpid, with getpid filtered out by number
// and with it timed. Other processes' syscalls are in the average too:
// run it on a quiet machine.
//
//	go test -run '^$' -bench InKernelCost ./plugins/inputs/ebpf_latency/syscall/
func BenchmarkInKernelCost(b *testing.B) {
	testenv.RequirePrivileged(b)
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	require.NoError(b, err)
	defer stats.Close()
	for _, tt := range []struct {
		name     string
		syscalls []string
		comms    []string
	}{
		{"filtered", []string{"fdatasync"}, nil},
		{"timed", []string{"getpid"}, nil},
		{"timed+comm", []string{"getpid"}, []string{"ebpfl-bench"}},
		{"timed+glob", []string{"getpid"}, []string{"ebpfl-b?nch"}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			h := startHelper(b, "ebpfl-bench")
			p := newProbe(config(tt.syscalls, tt.comms), testutil.Logger{}).(*syscallProbe)
			require.NoError(b, p.Start())
			defer p.Stop()
			before := progStats(b, p)
			b.ResetTimer()
			h.do(b, "getpid %d", b.N)
			b.StopTimer()
			after := progStats(b, p)
			for name, a := range after {
				runs := a.RunCount - before[name].RunCount
				if runs > 0 {
					b.ReportMetric(float64(a.Runtime-before[name].Runtime)/float64(runs), "ns/run-"+name)
				}
			}
		})
	}
}

func progStats(b *testing.B, p *syscallProbe) map[string]ebpf.ProgramStats {
	b.Helper()
	out := map[string]ebpf.ProgramStats{}
	for name, prog := range p.att.Programs() {
		s, err := prog.Stats()
		require.NoError(b, err)
		// syscall_enter_btf -> enter, syscall_thread_exit_raw -> thread_exit
		kind := strings.TrimPrefix(name[:strings.LastIndexByte(name, '_')], "syscall_")
		out[kind] = *s
	}
	return out
}
