package funcprobe

import (
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// 30 calls of do_work sleeping 2 ms and 10 sleeping 20 ms, threshold 10 ms:
// exactly the 10 slow calls are events, naming the worker; every call is in
// the histogram too. Through every attach flavour (the function index comes
// from the cookie or the slot).
func TestSlowEventsAreExactlyTheSlowCalls(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildWorker(t)
	for _, tt := range []struct {
		name  string
		chain []hooks.Flavour
	}{{"multi", nil}, {"cookies", []hooks.Flavour{withCookies}}, {"slots", []hooks.Flavour{withSlots}}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				{Binary: bin, Symbol: "nest"}, // no threshold: never an event
				{Binary: bin, Symbol: "do_work", SlowThreshold: "10ms"},
			}
			p := startProbe(t, cfg, tt.chain, testutil.Logger{})
			w := startWorker(t, bin, "work", "30", "2", "10", "20")
			w.run(t)

			var acc testutil.Accumulator
			require.NoError(t, p.Gather(&acc))
			events := testenv.SlowEvents(&acc)
			require.Len(t, events, 10, "one event per slow call, none for the fast ones")
			for _, e := range events {
				require.Equal(t, map[string]string{"probe": Name, TagBinary: "worker", TagFunction: "do_work"}, e.Tags())
				require.Equal(t, uint64(w.pid()), e.Fields()["pid"])
				require.Equal(t, "worker", e.Fields()["comm"])
				require.GreaterOrEqual(t, e.Fields()["seconds"], 0.020)
			}
			s, ok := testenv.FindSeries(&acc, Measurement, map[string]string{TagBinary: "worker", TagFunction: "do_work"})
			require.True(t, ok)
			require.Equal(t, uint64(40), s.Count, "events are in addition to the histogram")
			require.Zero(t, p.Status().Counters[slowevent.CounterDropped])
		})
	}
}

func TestSlowEventKeysValidated(t *testing.T) {
	bin := "/bin/true"
	for cfg, want := range map[*Config]string{
		{{Binary: bin, Symbol: "a", SlowThreshold: "soon"}}:                                                                `[0].slow_threshold: "soon" is not a duration`,
		{{Binary: bin, Symbol: "a", SlowEventsPerSecond: new(-2)}}:                                                         `[0].slow_events_per_second: -2 is out of range`,
		{{Binary: bin, Symbol: "a", SlowEventsPerSecond: new(5)}, {Binary: bin, Symbol: "b", SlowEventsPerSecond: new(6)}}: `[1].slow_events_per_second: 6, but an earlier function has 5`,
	} {
		require.ErrorContains(t, cfg.Validate(), want)
	}
}

// 20 calls of 20 ms over a 10 ms threshold at 2 events a second: the burst
// is sent, every other slow call is counted as dropped, and every call is
// in the histogram.
func TestSlowCallsOverTheRateAreCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	const calls, perSecond = 20, 2
	bin := buildWorker(t)
	began := time.Now()
	cfg := Config{{Binary: bin, Symbol: "do_work", SlowThreshold: "10ms", SlowEventsPerSecond: new(perSecond)}}
	p := startProbe(t, cfg, nil, testutil.Logger{})
	startWorker(t, bin, "work", strconv.Itoa(calls), "20").run(t)
	elapsed := time.Since(began)

	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	s, ok := testenv.FindSeries(&acc, Measurement, map[string]string{TagBinary: "worker", TagFunction: "do_work"})
	require.True(t, ok)
	require.Equal(t, uint64(calls), s.Count, "every call is in the histogram")
	testenv.RequireRateLimited(t, &acc, calls, p.Status().Counters[slowevent.CounterDropped], perSecond, elapsed)
}
