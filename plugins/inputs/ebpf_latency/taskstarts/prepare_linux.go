package taskstarts

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Names in every object that includes task_starts.bpf.h.
const (
	mapStorage  = "task_starts_storage"
	mapHash     = "task_starts_hash"
	mapCounters = "task_starts_counters"
	varLocal    = "task_starts_local"
)

// haveTaskStorage says why this kernel has no task storage, or nil; tests
// stand in for an older kernel.
var haveTaskStorage = func() error { return features.HaveMapType(ebpf.TaskStorage) }

// DefaultHashEntries is the fallback hash's size: threads in flight at once.
const DefaultHashEntries = 16384

// Store is where one load keeps its records.
type Store struct {
	Local bool   // task storage
	Why   string // why not, when the hash was chosen under auto
	// HashEntries is the hash's size when !Local.
	HashEntries uint32
}

// StartTimes is the start_times value this store is: never Auto.
func (s Store) StartTimes() string {
	if s.Local {
		return TaskStorage
	}
	return Hash
}

func (s Store) String() string {
	where := fmt.Sprintf("start times in a hash of %d threads", s.HashEntries)
	switch {
	case s.Local:
		where = "start times in task storage"
	case s.Why != "":
		where += " (" + s.Why + ")"
	}
	return fmt.Sprintf("start_times %q: %s", s.StartTimes(), where)
}

// Prepare chooses the store for one load and sets the object up for it:
// the knob, and the unused map shrunk to nothing (turned into an array on
// kernels without task storage, where the programs that would use it are
// pruned). taskPointers says whether the flavour being loaded can hand task
// storage the BTF task pointers it needs; hashEntries sizes the hash (0:
// DefaultHashEntries).
func (c *Setting) Prepare(spec *ebpf.CollectionSpec, taskPointers bool, hashEntries uint32) (Store, error) {
	storage, hash := spec.Maps[mapStorage], spec.Maps[mapHash]
	if storage == nil || hash == nil {
		return Store{}, fmt.Errorf("object lacks map %s or %s", mapStorage, mapHash)
	}
	if hashEntries == 0 {
		hashEntries = DefaultHashEntries
	}
	store := Store{HashEntries: hashEntries}
	supported := haveTaskStorage()
	switch {
	case c.StartTimes == Hash:
	case supported != nil:
		store.Why = "this kernel has no task storage for tracing programs (Linux 5.11+)"
	case !taskPointers:
		store.Why = "this hook passes no BTF task pointers"
	default:
		store.Local = true
	}
	if c.StartTimes == TaskStorage && !store.Local {
		return Store{}, errors.New("start_times: \"task_storage\" unavailable: " + store.Why)
	}
	if store.Local {
		hash.MaxEntries = 1
	} else {
		hash.MaxEntries = hashEntries
		if supported != nil {
			storage.Type, storage.Flags, storage.MaxEntries = ebpf.Hash, 0, 1
		}
	}
	return store, hooks.SetKnobs(spec, map[string]any{varLocal: store.Local})
}

// Counters adds the records lost, summed over CPUs, to st.
func Counters(coll *ebpf.Collection, st probe.Status) probe.Status {
	if st.Counters == nil {
		st.Counters = map[string]uint64{}
	}
	for name, n := range probe.SumCounters(coll.Maps[mapCounters], []string{CounterFull, CounterRefused}) {
		st.Counters[name] = n
	}
	return st
}

// Unused sets the object up for a load that keeps no start records (the
// probe takes start times from the kernel): both maps as small as the
// kernel allows, the programs' record code pruned.
func Unused(spec *ebpf.CollectionSpec) error {
	hash := Setting{StartTimes: Hash}
	_, err := hash.Prepare(spec, false, 1)
	return err
}
