package histogram

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Reader walks one probe's per-CPU histogram map and closes intervals by
// advancing the epoch the kernel stamps on each maximum (hist_epoch).
type Reader struct {
	hists   *ebpf.Map
	epoch   *ebpf.Map
	now     uint64 // the epoch the kernel is stamping
	cpus    int
	shape   Shape
	noBatch bool  // the kernel lacks batch lookups (before 5.6): iterate
	batch   batch // of hists
}

// batch is the buffers of one map's batched walk, reused by the next.
type batch struct {
	keys   any      // []K
	values []uint64 // keys * CPUs * shape.Words()
}

// NewReader reads the map named histMap, whose values are shaped as shape
// says (SetScheme cut them to its scheme), and the shared hist_epoch map of
// coll.
func NewReader(coll *ebpf.Collection, histMap string, shape Shape) (*Reader, error) {
	hists, epoch := coll.Maps[histMap], coll.Maps["hist_epoch"]
	if hists == nil || epoch == nil {
		return nil, fmt.Errorf("object lacks map %s or hist_epoch", histMap)
	}
	if want := uint32(8 * shape.Words()); hists.ValueSize() != want {
		return nil, fmt.Errorf("map %s holds %d-byte values, %d stage(s) of %s need %d (SetScheme before load?)",
			histMap, hists.ValueSize(), shape.Stages, shape.Scheme, want)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, err
	}
	return &Reader{hists: hists, epoch: epoch, cpus: cpus, shape: shape}, nil
}

// ReadAll merges every series of a one-histogram map and passes it to fn,
// then starts a new interval. A sample landing between the read and the
// epoch bump still counts in the buckets; only its claim to the interval
// max is lost. iv is reused for the next series after fn returns.
func ReadAll[K any](r *Reader, fn func(key *K, iv *Interval)) error {
	var iv Interval
	return ReadSeries(r, func(key *K, s *Series) {
		s.Merge(0, &iv)
		fn(key, &iv)
	})
}

// ReadSeries is ReadAll for values holding more than one histogram or
// fields of the probe's own (the disk probe keeps both stages of a series
// in one value, so one map lookup serves both): fn merges each stage with
// Series.Merge. s is reused after fn returns.
func ReadSeries[K any](r *Reader, fn func(key *K, s *Series)) error {
	s := Series{shape: &r.shape, epoch: r.now}
	if err := walk(r, r.hists, &r.batch, func(k *K, words []uint64) {
		s.words = words
		fn(k, &s)
	}); err != nil {
		return fmt.Errorf("reading histogram map: %w", err)
	}
	return r.nextInterval()
}

// ReadAllOf is ReadAll for the entries of keys alone, one lookup each: a
// sparsely used array (series in slots) is read without walking every
// slot. A key without an entry is skipped.
func ReadAllOf[K any](r *Reader, keys []K, fn func(key *K, iv *Interval)) error {
	var iv Interval
	s := Series{shape: &r.shape, epoch: r.now}
	if err := lookupEach(r, keys, func(k *K, words []uint64) {
		s.words = words
		s.Merge(0, &iv)
		fn(k, &iv)
	}); err != nil {
		return fmt.Errorf("reading histogram map: %w", err)
	}
	return r.nextInterval()
}

// nextInterval advances the epoch once every series was read.
func (r *Reader) nextInterval() error {
	r.now++
	if err := r.epoch.Update(uint32(0), r.now, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("advancing interval epoch: %w", err)
	}
	return nil
}

// walk visits every entry of m (a per-CPU map of the reader's shape), in
// batches of syscalls where the kernel can. The kernel writes a batch's
// values straight into b.values: a []uint64 exactly the batch's size is one
// cilium/ebpf hands to the syscall as is (any other size fails the per-CPU
// length check instead of misreading).
func walk[K any](r *Reader, m *ebpf.Map, b *batch, fn func(*K, []uint64)) error {
	if r.noBatch {
		return iterate(r, m, fn)
	}
	// 256 keys per syscall; a hash bucket never holds that many, which is
	// what the kernel would otherwise refuse with ENOSPC.
	keys, _ := b.keys.([]K)
	per := r.cpus * r.shape.Words()
	if keys == nil {
		keys = make([]K, 256)
		b.keys, b.values = keys, make([]uint64, len(keys)*per)
	}
	var cursor ebpf.MapBatchCursor
	for first := true; ; first = false {
		n, err := m.BatchLookup(&cursor, keys, b.values, nil)
		for i := 0; i < n; i++ {
			fn(&keys[i], b.values[i*per:(i+1)*per])
		}
		switch {
		case errors.Is(err, ebpf.ErrKeyNotExist):
			return nil
		case first && n == 0 && errors.Is(err, ebpf.ErrNotSupported):
			r.noBatch = true
			return iterate(r, m, fn)
		case err != nil:
			return err
		}
	}
}

// iterate is the one-syscall-per-key walk for kernels without batches.
func iterate[K any](r *Reader, m *ebpf.Map, fn func(*K, []uint64)) error {
	var key K
	perCPU, words := r.perCPUValue()
	it := m.Iterate()
	for it.Next(&key, perCPU) {
		fn(&key, words)
	}
	return it.Err()
}

// cpuValue is one CPU's value, decoded in place into its words.
type cpuValue []uint64

func (v *cpuValue) UnmarshalBinary(buf []byte) error {
	if len(buf) != 8*len(*v) {
		return fmt.Errorf("value of %d bytes, want %d", len(buf), 8*len(*v))
	}
	for i := range *v {
		(*v)[i] = binary.NativeEndian.Uint64(buf[8*i:])
	}
	return nil
}

// lookupEach visits the entries of keys, one lookup each.
func lookupEach[K any](r *Reader, keys []K, fn func(*K, []uint64)) error {
	perCPU, words := r.perCPUValue()
	for i := range keys {
		err := r.hists.Lookup(&keys[i], perCPU)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		fn(&keys[i], words)
	}
	return nil
}

// perCPUValue is one lookup's destination: a value per CPU, each decoded
// in place into its part of words.
func (r *Reader) perCPUValue() ([]cpuValue, []uint64) {
	perCPU := make([]cpuValue, r.cpus)
	words := make([]uint64, r.cpus*r.shape.Words())
	for i := range perCPU {
		perCPU[i] = words[i*r.shape.Words() : (i+1)*r.shape.Words()]
	}
	return perCPU, words
}
