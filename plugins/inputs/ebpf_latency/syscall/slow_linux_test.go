package syscall

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// A helper preads a FUSE file that sleeps 20 ms per read (slow), and makes
// fdatasyncs on it and getpids (fast). Exactly the preads are events, with
// the helper's pid, comm and the fd the kernel says is that file; every
// call is in the histogram too.
func TestSlowEventsAreExactlyTheSlowSyscalls(t *testing.T) {
	testenv.RequirePrivileged(t)
	const slowCalls, fastCalls = 6, 40
	delay := 20 * time.Millisecond
	file := testenv.NewDelayedFile(t, 1<<20, delay)
	for _, hook := range []string{HookTPBTF, HookRawTP} {
		t.Run(hook, func(t *testing.T) {
			comm := uniq("slow")
			cfg := config([]string{"pread64", "fdatasync", "getpid"}, []string{comm})
			cfg.Hook, cfg.Threshold = hook, "10ms"
			p := startProbe(t, cfg)
			h := startHelperOn(t, comm, file)

			h.do(t, "getpid %d", fastCalls)
			h.do(t, "pread %d", slowCalls)
			h.do(t, "fdatasync %d", fastCalls)
			acc := gather(t, p)

			events := testenv.SlowEvents(acc)
			require.Len(t, events, slowCalls, "one event per slow pread, none for the fast calls")
			for _, e := range events {
				require.Equal(t, map[string]string{"probe": Name, TagSyscall: "pread64"}, e.Tags())
				f := e.Fields()
				require.Equal(t, uint64(h.Pid), f["pid"])
				require.Equal(t, comm, f["comm"])
				require.GreaterOrEqual(t, f["seconds"], delay.Seconds())
				fd, ok := f["fd"].(int64)
				require.True(t, ok, "fd field: %v", f)
				target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", h.Pid, fd))
				require.NoError(t, err)
				require.Equal(t, filepath.Clean(file), target, "the event's fd is the delayed file")
			}
			for name, n := range map[string]uint64{"pread64": slowCalls, "fdatasync": fastCalls, "getpid": fastCalls} {
				s, ok := findSeries(acc, name, comm)
				require.True(t, ok, name)
				require.Equal(t, n, s.Count, "%s: events are in addition to the histogram", name)
			}
			require.Zero(t, p.Status().Counters[slowevent.CounterDropped])
		})
	}
}

// Over slow_events_per_second, the slow calls not sent are counted exactly.
func TestSlowSyscallsOverTheRateAreCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	const slowCalls, perSecond = 25, 3
	comm := uniq("rate")
	cfg := config([]string{"clock_nanosleep"}, []string{comm})
	cfg.Threshold, cfg.PerSecond = "5ms", perSecond
	p := startProbe(t, cfg)
	h := startHelper(t, comm)

	began := time.Now()
	h.do(t, "sleep %d 10", slowCalls)
	elapsed := time.Since(began)
	acc := gather(t, p)

	sent := len(testenv.SlowEvents(acc))
	for _, e := range testenv.SlowEvents(acc) {
		require.Equal(t, int64(1), e.Fields()["arg0"], "clock_nanosleep's first argument: CLOCK_MONOTONIC")
	}
	require.Equal(t, uint64(slowCalls-sent), p.Status().Counters[slowevent.CounterDropped])
	require.GreaterOrEqual(t, sent, perSecond, "the burst is sent")
	require.LessOrEqual(t, sent, perSecond+int(elapsed.Seconds()*perSecond)+1)
}
