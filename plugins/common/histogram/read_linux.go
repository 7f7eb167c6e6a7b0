package histogram

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// Reader walks one probe's per-CPU histogram map and closes intervals by
// advancing the epoch the kernel stamps on each maximum (hist_epoch).
type Reader struct {
	hists *ebpf.Map
	epoch *ebpf.Map
	now   uint64 // the epoch the kernel is stamping
}

// NewReader reads the map named histMap and the shared hist_epoch map of coll.
func NewReader(coll *ebpf.Collection, histMap string) (*Reader, error) {
	hists, epoch := coll.Maps[histMap], coll.Maps["hist_epoch"]
	if hists == nil || epoch == nil {
		return nil, fmt.Errorf("object lacks map %s or hist_epoch", histMap)
	}
	return &Reader{hists: hists, epoch: epoch}, nil
}

// ReadAll merges every series and passes it to fn, then starts a new
// interval. A sample landing between the read and the epoch bump still counts
// in the buckets; only its claim to the interval max is lost.
func ReadAll[K any](r *Reader, fn func(key *K, iv *Interval)) error {
	var (
		key    K
		perCPU []Value
	)
	it := r.hists.Iterate()
	for it.Next(&key, &perCPU) {
		iv := Merge(perCPU, r.now)
		fn(&key, &iv)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("reading histogram map: %w", err)
	}
	r.now++
	if err := r.epoch.Update(uint32(0), r.now, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("advancing interval epoch: %w", err)
	}
	return nil
}
