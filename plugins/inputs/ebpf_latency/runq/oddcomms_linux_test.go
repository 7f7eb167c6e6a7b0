package runq

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// The wakeups of a thread with an odd name (trailing backslash, control or
// non-UTF-8 bytes, "other", "") land in that name's own series, read back
// from the line protocol; as nothing folds, comm="other" stays absent.
func TestOddCommsKeepTheirOwnSeries(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		cfg := DefaultConfig()
		cfg.Comms, cfg.MaxComms = []string{"*"}, maxMaxComms // every task: the empty name too
		p := startProbe(t, fl.pin(cfg))
		sleeps := map[string]int{}
		for i, name := range testenv.OddComms {
			n := i + 1
			var err error
			// No require inside: FailNow on that thread would never return.
			testenv.AsNamedThread(t, name, func() {
				for range n {
					ts := unix.NsecToTimespec(int64(time.Millisecond))
					// The Go runtime's preemption signal interrupts a sleep.
					for err = unix.Nanosleep(&ts, &ts); err == unix.EINTR; {
						err = unix.Nanosleep(&ts, &ts)
					}
					if err != nil {
						return
					}
				}
			})
			require.NoError(t, err, "sleeping as %q", name)
			sleeps[tagvalue.Escape(name)] = n
		}
		acc := testenv.ThroughLineProtocol(t, gather(t, p))
		testenv.RequireDistinctSeries(t, acc, Measurement)
		seen := commsSeen(acc)
		require.False(t, seen[CommOther], "nothing folded (comm_folded %d), yet a comm=other series", p.Status().Counters["comm_folded"])
		for comm, n := range sleeps {
			require.True(t, seen[comm], "no series for comm %q", comm)
			s, _ := findSeries(acc, map[string]string{TagComm: comm})
			require.Positive(t, s.Count, "%q slept %d times", comm, n)
		}
	})
}
