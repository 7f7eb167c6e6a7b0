// Package idle ages out series that stopped gaining samples
// (expire_idle_series): they stop being written, and their kernel map key,
// with the cardinality slot behind it (a comm, a peer), is freed for a
// newcomer. A series that comes back starts again from zero, a counter reset
// that rate() and increase() handle.
package idle

import "time"

// Default is expire_idle_series when the config does not set it.
const Default = 15 * time.Minute

// Setting, embedded in a probe, takes expire_idle_series from the plugin
// before Start (Expiring).
type Setting struct{ after time.Duration }

// ExpireIdleSeries keeps the plugin-wide setting; 0 means never.
func (s *Setting) ExpireIdleSeries(after time.Duration) { s.after = after }

// IdleAfter is what ExpireIdleSeries kept; 0 (never) before.
func (s *Setting) IdleAfter() time.Duration {
	if s.after < 0 {
		return 0
	}
	return s.after
}

// Expiring is a probe whose series age out.
type Expiring interface {
	ExpireIdleSeries(after time.Duration)
}

// Series follows, gather after gather, when each series of one kernel map
// last gained a sample.
type Series[K comparable] struct {
	after   time.Duration
	marks   map[K]*mark
	round   uint64
	expired []K // found idle in this round, not yet deleted
}

type mark struct {
	count   uint64
	changed time.Time
	round   uint64
}

// NewSeries expires series idle for after; 0 never does.
func NewSeries[K comparable](after time.Duration) *Series[K] {
	return &Series[K]{after: after, marks: map[K]*mark{}}
}

// Keep records key's cumulative count at now and says whether the series is
// still to be written: false once the count has not grown for the expiry
// time. Call it for every key of one walk, then Sweep. A nil Series keeps
// everything.
func (s *Series[K]) Keep(key K, count uint64, now time.Time) bool {
	if s == nil || s.after <= 0 {
		return true
	}
	m, ok := s.marks[key]
	if !ok || count != m.count {
		if !ok {
			m = &mark{}
			s.marks[key] = m
		}
		m.count, m.changed = count, now
	}
	m.round = s.round + 1
	if now.Sub(m.changed) < s.after {
		return true
	}
	s.expired = append(s.expired, key)
	delete(s.marks, key)
	return false
}

// Sweep ends a walk: it returns the keys found idle (for the caller to
// delete from the kernel) and forgets keys the walk did not see.
func (s *Series[K]) Sweep() []K {
	if s == nil {
		return nil
	}
	s.round++
	for k, m := range s.marks {
		if m.round != s.round {
			delete(s.marks, k)
		}
	}
	expired := s.expired
	s.expired = nil
	return expired
}
