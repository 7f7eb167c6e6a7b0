package idle

import "github.com/cilium/ebpf"

// DeleteFreeing deletes the series keys from hists, then frees in slots
// the cardinality slot (a comm under max_comms, ...) of each series whose
// slot no live series holds any more; slotOf says which slot a series
// holds, if any. live is updated, so each slot is freed once.
func DeleteFreeing[K any, S comparable](hists, slots *ebpf.Map, keys []K, live map[S]bool, slotOf func(*K) (S, bool)) error {
	if err := Delete(hists, keys); err != nil {
		return err
	}
	var freed []S
	for i := range keys {
		if s, ok := slotOf(&keys[i]); ok && !live[s] {
			live[s] = true
			freed = append(freed, s)
		}
	}
	return Delete(slots, freed)
}
