package tcp

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// tcpSlot is struct tcp_slot: where a tcp_rtt series' histogram lives.
type tcpSlot = tcpbpf.RttTcpSlot

// The maps of tcp_rtt's series slots (tcp_rtt.bpf.c): histograms in a
// per-CPU array, the series' keys in a hash to their slot, each slot's
// generation, and the free slots.
var rttSlotMaps = []string{tcpbpf.RttMapTcpRttSeries, tcpbpf.RttMapTcpRttGens, tcpbpf.RttMapTcpRttFree}

// sizeSlotMaps gives every slot map as many entries as the histogram array
// was granted (prepareSpec fits it to the memory budget first). tcp_rtt has
// no connect direction, so seriesLimit's factor 2 for it holds the slots
// pending release: an expire may free every series at once, and their
// peers' places at once too, so newcomers before the next gather find as
// many slots as were freed. Only past the budget (or by_port's and
// by_interface's guesses) can a series find none (series_full).
func sizeSlotMaps(spec *ebpf.CollectionSpec) error {
	hists, ok := spec.Maps[tcpbpf.RttMapTcpRttHists]
	if !ok {
		return fmt.Errorf("object lacks map %s", tcpbpf.RttMapTcpRttHists)
	}
	for _, name := range rttSlotMaps {
		m, ok := spec.Maps[name]
		if !ok {
			return fmt.Errorf("object lacks map %s", name)
		}
		m.MaxEntries = hists.MaxEntries
	}
	return nil
}

// rttSlots is user space's side of the slots: which series holds which
// slot, read every gather, and the slots of expired series, returned to the
// kernel one gather after their series was deleted.
type rttSlots struct {
	hists, series, gens, free *ebpf.Map

	bySlot  map[uint32]tcpKey // this gather's series
	byKey   map[tcpKey]tcpSlot
	pending []uint32 // freed in the last expire: zeroed and returned next gather
	keys    []tcpKey // batch buffers
	values  []tcpSlot
	noBatch bool
	inUse   []uint32
	// sparse: at most this share of the slots in use, the gather looks
	// up each in use instead of walking them all (the walk reads every
	// slot's value on every CPU, MapBudget bytes at max_peers' limit).
	sparse float64
}

func newRTTSlots(coll *ebpf.Collection) (*rttSlots, error) {
	s := &rttSlots{
		hists: coll.Maps[tcpbpf.RttMapTcpRttHists], series: coll.Maps[tcpbpf.RttMapTcpRttSeries],
		gens: coll.Maps[tcpbpf.RttMapTcpRttGens], free: coll.Maps[tcpbpf.RttMapTcpRttFree],
		bySlot: map[uint32]tcpKey{}, byKey: map[tcpKey]tcpSlot{}, sparse: 0.25,
	}
	// Every slot starts free (and zero: the array is created so).
	for slot := uint32(0); slot < s.hists.MaxEntries(); slot++ {
		if err := s.free.Update(nil, slot, ebpf.UpdateAny); err != nil {
			return nil, fmt.Errorf("filling %s: %w", s.free.String(), err)
		}
	}
	return s, nil
}

// read returns the key of every series that holds a slot, by slot, after
// returning the slots freed in the last expire to the kernel.
func (s *rttSlots) read() (map[uint32]tcpKey, error) {
	if err := s.release(); err != nil {
		return nil, err
	}
	clear(s.bySlot)
	clear(s.byKey)
	add := func(k *tcpKey, v *tcpSlot) {
		s.bySlot[v.Slot], s.byKey[*k] = *k, *v
	}
	if err := s.walk(add); err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.series.String(), err)
	}
	return s.bySlot, nil
}

// used lists the slots read found in use; false when so many are that
// walking every slot is cheaper than a lookup per slot.
func (s *rttSlots) used() ([]uint32, bool) {
	if float64(len(s.bySlot)) > s.sparse*float64(s.hists.MaxEntries()) {
		return nil, false
	}
	s.inUse = s.inUse[:0]
	for slot := range s.bySlot {
		s.inUse = append(s.inUse, slot)
	}
	return s.inUse, true
}

// walk visits every series, in batches where the kernel can.
func (s *rttSlots) walk(fn func(*tcpKey, *tcpSlot)) error {
	if !s.noBatch {
		if s.keys == nil {
			s.keys, s.values = make([]tcpKey, 256), make([]tcpSlot, 256)
		}
		var cursor ebpf.MapBatchCursor
		for first := true; ; first = false {
			n, err := s.series.BatchLookup(&cursor, s.keys, s.values, nil)
			for i := 0; i < n; i++ {
				fn(&s.keys[i], &s.values[i])
			}
			switch {
			case errors.Is(err, ebpf.ErrKeyNotExist):
				return nil
			case first && n == 0 && errors.Is(err, ebpf.ErrNotSupported):
				s.noBatch = true
			case err != nil:
				return err
			}
			if s.noBatch {
				break
			}
		}
	}
	var (
		k tcpKey
		v tcpSlot
	)
	it := s.series.Iterate()
	for it.Next(&k, &v) {
		fn(&k, &v)
	}
	return it.Err()
}

// expired takes back the slots of series expire deleted (their keys are
// gone from the series map already): a bumped generation voids every
// socket's copy of the slot now; the slot is zeroed and reused from the
// next gather on, so a sample already on its way into it is never filed
// under the slot's next series.
func (s *rttSlots) expired(gone []tcpKey) error {
	for i := range gone {
		v, ok := s.byKey[gone[i]]
		if !ok {
			continue
		}
		delete(s.byKey, gone[i])
		if err := s.gens.Update(v.Slot, v.Gen+1, ebpf.UpdateExist); err != nil {
			return fmt.Errorf("freeing slot %d of %s: %w", v.Slot, s.gens.String(), err)
		}
		s.pending = append(s.pending, v.Slot)
	}
	return nil
}

// release zeroes the slots freed in the last expire and returns them.
func (s *rttSlots) release() error {
	if err := histogram.ZeroRows(s.hists, s.pending...); err != nil {
		return err
	}
	for _, slot := range s.pending {
		if err := s.free.Update(nil, slot, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("returning slot %d to %s: %w", slot, s.free.String(), err)
		}
	}
	s.pending = s.pending[:0]
	return nil
}
