package histogram

import (
	"slices"
	"time"
)

// deltas remembers each series' cumulative counts at the previous gather, so
// a gather can write what the interval just ended added, and counts the
// wraps of its nanosecond sum. Series are known by measurement and tags; one
// that was not written in the last gather is forgotten (its kernel key
// expired or was deleted), and a series whose counts went down was
// recreated, so the whole of its counts is new.
//
// The kernel adds every sample to a per-CPU 64-bit sum of nanoseconds
// (hist_record), which wraps after 584 years of summed latency: a runq
// series of a host where 1,000 tasks wait all the time gains 1,000 s per
// second and wraps within 7 months. Summed across CPUs modulo 2^64, a sum
// that went down from above 2^63 while no count did has wrapped (an
// interval adds far less than 2^63 ns; a recreated series starts low), so
// each wrap is counted here and seconds_sum keeps growing.
type deltas struct {
	prev    map[string]*previous
	gather  uint64    // number of the gather being written
	lastNow time.Time // the timestamp that gather writes with
	key     []byte
	names   []string
}

type previous struct {
	slots  []uint64 // the scheme's slots only
	sumNs  uint64
	wraps  uint64 // times the kernel's sum went past 2^64 ns
	gather uint64 // the last gather that saw the series
	// written is when the series was last written (unchanged_series_every);
	// zero: never.
	written time.Time
}

// since returns the counts added to iv's series since the previous gather,
// in its first n slots, and the series' state (wraps of its sum, when it
// was written). Every Emit of one gather passes the same now, which is how
// a new gather is told apart.
func (d *deltas) since(measurement string, tags map[string]string, iv *Interval, n int, now time.Time) (added Interval, p *previous) {
	if d.prev == nil {
		d.prev = map[string]*previous{}
	}
	if !now.Equal(d.lastNow) {
		d.forgetIdle()
		d.lastNow = now
	}
	key := d.seriesKey(measurement, tags)
	p, ok := d.prev[string(key)]
	if !ok {
		p = &previous{slots: make([]uint64, n)}
		d.prev[string(key)] = p
	}
	switch {
	case iv.SumNs < p.sumNs && p.sumNs >= 1<<63 && !p.wentBack(iv):
		p.wraps++ // an interval adds far less than 2^63 ns: only a sum this high wraps
	case iv.SumNs < p.sumNs || p.wentBack(iv):
		clear(p.slots)
		p.sumNs, p.wraps = 0, 0
	}
	for s, c := range iv.Slots[:n] {
		added.Slots[s] = c - p.slots[s]
	}
	added.SumNs = iv.SumNs - p.sumNs // modulo 2^64: right across a wrap too
	added.MaxNs, added.MinNs, added.Sampled = iv.MaxNs, iv.MinNs, iv.Sampled
	copy(p.slots, iv.Slots[:n])
	p.sumNs, p.gather = iv.SumNs, d.gather
	return added, p
}

// forgetIdle drops the series the last gather did not see, then starts
// the next gather.
func (d *deltas) forgetIdle() {
	for k, p := range d.prev {
		if p.gather != d.gather {
			delete(d.prev, k)
		}
	}
	d.gather++
}

// wentBack says a count went down: the series was recreated.
func (p *previous) wentBack(iv *Interval) bool {
	for s, c := range p.slots {
		if iv.Slots[s] < c {
			return true
		}
	}
	return false
}

// seriesKey is measurement and the tags in key order, NUL-separated (NUL
// cannot occur in a tag written as line protocol).
func (d *deltas) seriesKey(measurement string, tags map[string]string) []byte {
	d.names = d.names[:0]
	for k := range tags {
		d.names = append(d.names, k)
	}
	slices.Sort(d.names)
	d.key = append(d.key[:0], measurement...)
	for _, k := range d.names {
		d.key = append(append(append(append(d.key, 0), k...), 0), tags[k]...)
	}
	return d.key
}
