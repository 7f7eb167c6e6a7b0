//go:build linux

package ebpf_latency_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The p99 and max lines must show the injected latencies: each line's p99
// within the bucket holding its delay, and its max (a real sample) at least
// the delay and at most that bucket's bound (0, an interval without
// samples, aside); round trips, whose delay is only a lower bound, at or
// above it.

// lineCheck is one p99/max panel in one dc: the tag its lines are told
// apart by, and each line's delay and bucket (lo, hi] in seconds.
type lineCheck struct {
	title, dc, tag string
	lines          map[string]delayBucket
}

type delayBucket struct {
	delay  time.Duration
	lo, hi float64
}

func lineChecks(w *dashboardWorkload) []lineCheck {
	primary := delayBucket{primaryDiskDelay, 0.016384, 0.032768}
	second := delayBucket{secondDiskDelay, 0.065536, 0.131072}
	standby := delayBucket{standbyDiskDelay, 0.008192, 0.016384}
	calls := delayBucket{20 * time.Millisecond, 0.016384, 0.032768}
	// A round trip is the delay line's plus both stacks' and the delay
	// process's scheduling, which a loaded machine stretches past the
	// bucket: the injected delay is only a lower bound (hi +Inf).
	rtt := delayBucket{2 * oneWayDelay, 0.008192, math.Inf(1)}
	return []lineCheck{
		{"Disk I/O latency p99 and max in $dc", primaryDC, "device", map[string]delayBucket{w.primary.Name: primary, w.second.Name: second}},
		{"Disk I/O latency p99 and max in $dc", standbyDC, "device", map[string]delayBucket{w.standby.Name: standby}},
		{"Function latency p99 and max in $dc", primaryDC, "function", map[string]delayBucket{functionSymbol: calls}},
		{"Function latency p99 and max in $dc", standbyDC, "function", map[string]delayBucket{functionSymbol: calls}},
		{"TCP round-trip time p99 and max in $dc", primaryDC, "peer", map[string]delayBucket{standbyPeer: rtt}},
		{"TCP round-trip time p99 and max in $dc", standbyDC, "peer", map[string]delayBucket{primaryPeer: rtt}},
	}
}

func requireQuantiles(t *testing.T, d grafanaDashboard, values map[string][]string, multi map[string]bool,
	escape func(string) string, run func(string) ([]resultSeries, error), w *dashboardWorkload) {
	t.Helper()
	for _, c := range lineChecks(w) {
		var p grafanaPanel
		for _, q := range d.queryPanels() {
			if q.Title == c.title {
				p = q
			}
		}
		require.Len(t, p.Targets, 2, "panel %q: a p99 and a max query", c.title)
		v, m := maps2(values, multi)
		v["dc"], m["dc"] = []string{c.dc}, false
		for _, target := range p.Targets {
			text := target.Expr + target.Query
			isMax := strings.Contains(text, "seconds_max")
			q := substitute(t, text, v, m, escape)
			got, err := run(q)
			require.NoError(t, err, q)
			seen := map[string]bool{}
			for _, s := range got {
				line := s.labels[c.tag]
				want, ok := c.lines[line]
				require.True(t, ok, "%s %s: unexpected line %s=%q: %s", c.title, c.dc, c.tag, line, q)
				for _, x := range s.values {
					if math.IsNaN(x) || (isMax && x == 0) {
						continue // a step without samples: no p99, max 0
					}
					seen[line] = true
					lo := want.lo
					if isMax {
						lo = want.delay.Seconds() // at or above: a real sample
						require.GreaterOrEqual(t, x, lo, "%s %s %s max: %s", c.title, c.dc, line, q)
					} else {
						require.Greater(t, x, lo, "%s %s %s p99: %s", c.title, c.dc, line, q)
					}
					require.LessOrEqual(t, x, want.hi, "%s %s %s: %s", c.title, c.dc, line, q)
				}
			}
			for line := range c.lines {
				require.True(t, seen[line], "%s %s: no value for %s=%s: %s", c.title, c.dc, c.tag, line, q)
			}
		}
	}
}
