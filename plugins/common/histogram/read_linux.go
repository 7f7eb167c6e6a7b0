package histogram

import (
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
	noBatch bool // the kernel lacks batch lookups (before 5.6): iterate
	buffers any  // batch buffers of the last walk, reused by the next
}

// NewReader reads the map named histMap and the shared hist_epoch map of coll.
func NewReader(coll *ebpf.Collection, histMap string) (*Reader, error) {
	hists, epoch := coll.Maps[histMap], coll.Maps["hist_epoch"]
	if hists == nil || epoch == nil {
		return nil, fmt.Errorf("object lacks map %s or hist_epoch", histMap)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, err
	}
	return &Reader{hists: hists, epoch: epoch, cpus: cpus}, nil
}

// ReadAll merges every series and passes it to fn, then starts a new
// interval. A sample landing between the read and the epoch bump still counts
// in the buckets; only its claim to the interval max is lost. iv is reused
// for the next series after fn returns (one 1 KiB Interval per walk, not
// per series).
func ReadAll[K any](r *Reader, fn func(key *K, iv *Interval)) error {
	var iv Interval
	return ReadValues(r, func(key *K, perCPU []Value, epoch uint64) {
		iv = Interval{}
		for i := range perCPU {
			iv.Add(&perCPU[i], epoch)
		}
		fn(key, &iv)
	})
}

// ReadValues is ReadAll for maps whose value V holds several histograms
// (the disk probe keeps both stages of a series in one value, so one map
// lookup serves both); fn merges them with Interval.Add and the epoch given.
// The perCPU slice is reused after fn returns.
func ReadValues[K, V any](r *Reader, fn func(key *K, perCPU []V, epoch uint64)) error {
	if err := walk(r, func(k *K, v []V) { fn(k, v, r.now) }); err != nil {
		return fmt.Errorf("reading histogram map: %w", err)
	}
	r.now++
	if err := r.epoch.Update(uint32(0), r.now, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("advancing interval epoch: %w", err)
	}
	return nil
}

// batch holds reusable buffers for one key and value type.
type batch[K, V any] struct {
	keys []K
	vals []V // len(keys) * CPUs
}

// walk visits every entry, in batches of syscalls where the kernel can.
func walk[K, V any](r *Reader, fn func(*K, []V)) error {
	if r.noBatch {
		return iterate(r, fn)
	}
	// 256 keys per syscall; a hash bucket never holds that many, which is
	// what the kernel would otherwise refuse with ENOSPC.
	b, _ := r.buffers.(*batch[K, V])
	if b == nil {
		b = &batch[K, V]{keys: make([]K, 256), vals: make([]V, 256*r.cpus)}
		r.buffers = b
	}
	var cursor ebpf.MapBatchCursor
	for first := true; ; first = false {
		n, err := r.hists.BatchLookup(&cursor, b.keys, b.vals, nil)
		for i := 0; i < n; i++ {
			fn(&b.keys[i], b.vals[i*r.cpus:(i+1)*r.cpus])
		}
		switch {
		case errors.Is(err, ebpf.ErrKeyNotExist):
			return nil
		case first && n == 0 && errors.Is(err, ebpf.ErrNotSupported):
			r.noBatch = true
			return iterate(r, fn)
		case err != nil:
			return err
		}
	}
}

// iterate is the one-syscall-per-key walk for kernels without batches.
func iterate[K, V any](r *Reader, fn func(*K, []V)) error {
	var (
		key    K
		perCPU []V
	)
	it := r.hists.Iterate()
	for it.Next(&key, &perCPU) {
		fn(&key, perCPU)
	}
	return it.Err()
}
