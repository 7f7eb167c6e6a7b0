package syscall

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// Threads named oddly, a real "other" and an empty name among them, keep a
// series each, with their own counts, through the line protocol telegraf
// reads; nothing is folded, so no comm="other" series appears.
func TestOddCommsKeepTheirOwnSeries(t *testing.T) {
	testenv.RequirePrivileged(t)
	cfg := config([]string{"getppid"}, nil)
	cfg.Pids = []int{os.Getpid()}
	p := startProbe(t, cfg)
	want := map[string]uint64{}
	for i, name := range testenv.OddComms {
		calls := i + 1 // a count of its own, so a merge shows
		testenv.AsNamedThread(t, name, func() {
			for range calls {
				unix.Getppid()
			}
		})
		want[tagvalue.Escape(name)] = uint64(calls)
	}
	acc := testenv.ThroughLineProtocol(t, gather(t, p))
	testenv.RequireDistinctSeries(t, acc, Measurement)
	got := map[string]uint64{}
	for comm := range comms(acc) {
		got[comm] = count(acc, "getppid", comm)
	}
	require.Equal(t, want, got)
	require.Zero(t, p.Status().Counters["comm_folded"])
}
