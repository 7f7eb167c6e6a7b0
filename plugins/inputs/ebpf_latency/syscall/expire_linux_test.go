package syscall

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A comm with no new sample for expire_idle_series stops being written and
// frees its max_comms slot: the next comm gets a series of its own instead
// of folding into "other", and the departed one, back, folds.
func TestIdleCommExpiresAndFreesItsSlot(t *testing.T) {
	testenv.RequirePrivileged(t)
	const expiry = 300 * time.Millisecond
	a, b := startHelper(t, uniq("idle-a")), startHelper(t, uniq("idle-b"))
	cfg := config([]string{"fdatasync"}, []string{uniq("idle-*")})
	cfg.MaxComms = 1
	p := startProbe(t, cfg, func(p *syscallProbe) { p.ExpireIdleSeries(expiry) })

	a.do(t, "fdatasync %d", 3)
	require.Equal(t, uint64(3), count(gather(t, p), "fdatasync", uniq("idle-a")))
	time.Sleep(expiry + 100*time.Millisecond)
	acc := gather(t, p)
	require.NotContains(t, comms(acc), uniq("idle-a"), "idle for the expiry time: no longer written")

	b.do(t, "fdatasync %d", 4)
	a.do(t, "fdatasync %d", 2)
	acc = gather(t, p)
	require.Equal(t, uint64(4), count(acc, "fdatasync", uniq("idle-b")), "the newcomer took the freed slot")
	require.Equal(t, uint64(2), count(acc, "fdatasync", CommOther), "the departed comm came back beyond max_comms")
	require.NotContains(t, comms(acc), uniq("idle-a"))
	require.Equal(t, uint64(2), p.Status().Counters["comm_folded"])
}
