package histogram

import (
	"fmt"
	"slices"

	"github.com/cilium/ebpf"
)

// Rows are series a probe keeps in a per-CPU array beside its hash, where
// user space knows the keys and gives each a row (the disk probe: a row per
// disk and op): the verifier inlines an array lookup, a hash lookup it does
// not. Row i holds the series Key(i) names; a row without a key, or with
// every word zero, holds none (a hash entry exists once a sample came, a
// row always). A key may be in both the hash and a row (a series recorded
// in the hash before its row was given): ReadSeriesWithRows merges them.
type Rows[K comparable] struct {
	m     *ebpf.Map
	key   func(row uint32) (K, bool)
	words int // per CPU
	cpus  int

	batch batch
	held  []heldRow[K] // rows holding a series at the last read
	index map[K]int    // key -> held index
	store []uint64     // held rows' values, one after another
	both  []uint64     // a key's hash value followed by its row's
}

// heldRow is a row that held a series at the last read.
type heldRow[K comparable] struct {
	key    K
	row    uint32
	merged bool // read with the key's hash entry
}

// NewRows reads the per-CPU array m, whose values have r's shape; key names
// the series of each row.
func NewRows[K comparable](r *Reader, m *ebpf.Map, key func(row uint32) (K, bool)) (*Rows[K], error) {
	if want := uint32(8 * r.shape.Words()); m.ValueSize() != want {
		return nil, fmt.Errorf("map %s holds %d-byte values, the histogram map %d", m, m.ValueSize(), want)
	}
	return &Rows[K]{m: m, key: key, words: r.shape.Words(), cpus: r.cpus, index: map[K]int{}}, nil
}

// ReadSeriesWithRows is ReadSeries over the hash and rows together: each
// key once, its hash value and its row's as one series (Series.Lead and
// Series.Merge sum and merge them as they do CPUs), then the keys only a
// row holds, in row order.
func ReadSeriesWithRows[K comparable](r *Reader, rows *Rows[K], fn func(key *K, s *Series)) error {
	if err := rows.read(r); err != nil {
		return fmt.Errorf("reading histogram rows: %w", err)
	}
	s := Series{shape: &r.shape, epoch: r.now}
	if err := walk(r, r.hists, &r.batch, func(k *K, words []uint64) {
		s.words = words
		if i, ok := rows.index[*k]; ok {
			rows.held[i].merged = true
			rows.both = append(append(rows.both[:0], words...), rows.values(i)...)
			s.words = rows.both
		}
		fn(k, &s)
	}); err != nil {
		return fmt.Errorf("reading histogram map: %w", err)
	}
	for i := range rows.held {
		if !rows.held[i].merged {
			s.words = rows.values(i)
			fn(&rows.held[i].key, &s)
		}
	}
	return r.nextInterval()
}

// ReadAllWithRows is ReadAll over the hash and rows together
// (ReadSeriesWithRows), for values holding one histogram.
func ReadAllWithRows[K comparable](r *Reader, rows *Rows[K], fn func(key *K, iv *Interval)) error {
	var iv Interval
	return ReadSeriesWithRows(r, rows, func(key *K, s *Series) {
		s.Merge(0, &iv)
		fn(key, &iv)
	})
}

// read takes every row holding a series.
func (rows *Rows[K]) read(r *Reader) error {
	rows.held, rows.store = rows.held[:0], rows.store[:0]
	clear(rows.index)
	return walk(r, rows.m, &rows.batch, func(row *uint32, words []uint64) {
		k, ok := rows.key(*row)
		if !ok || !slices.ContainsFunc(words, func(w uint64) bool { return w != 0 }) {
			return
		}
		rows.index[k] = len(rows.held)
		rows.held = append(rows.held, heldRow[K]{key: k, row: *row})
		rows.store = append(rows.store, words...)
	})
}

// values are held row i's words, every CPU's.
func (rows *Rows[K]) values(i int) []uint64 {
	per := rows.cpus * rows.words
	return rows.store[i*per : (i+1)*per]
}

// Held says whether row held a series at the last read.
func (rows *Rows[K]) Held(row uint32) bool {
	return slices.ContainsFunc(rows.held, func(h heldRow[K]) bool { return h.row == row })
}

// Clear empties row on every CPU: its series ends, as a hash entry's does
// when deleted. A sample the kernel records between the read and the clear
// is lost with it, as with a deleted hash entry.
func (rows *Rows[K]) Clear(row uint32) error { return ZeroRows(rows.m, row) }

// ZeroRows zeroes the given entries of the per-CPU array m on every CPU:
// an array entry cannot be deleted, so this is how the series it held ends.
func ZeroRows(m *ebpf.Map, rows ...uint32) error {
	if len(rows) == 0 {
		return nil
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return err
	}
	zero := make([][]byte, cpus)
	for i := range zero {
		zero[i] = make([]byte, m.ValueSize())
	}
	for _, row := range rows {
		if err := m.Update(row, zero, ebpf.UpdateExist); err != nil {
			return fmt.Errorf("zeroing entry %d of %s: %w", row, m, err)
		}
	}
	return nil
}
