package commglob

import (
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
)

// NamesMap is the kernel's hash of exact names.
const NamesMap = "comm_glob_names"

// Prepare sets the knobs and sizes and fills the names hash before load,
// so the programs never run against an empty filter.
func (f *Filter) Prepare(spec *ebpf.CollectionSpec) error {
	if err := hooks.SetKnobs(spec, f.Knobs()); err != nil {
		return err
	}
	names := spec.Maps[NamesMap]
	if names == nil {
		return fmt.Errorf("object lacks map %s", NamesMap)
	}
	names.MaxEntries = uint32(max(len(f.Names), 1))
	names.Contents = nil
	for _, n := range f.Names {
		var key [CommLen + 1]byte // NUL-padded, as the kernel's comm
		copy(key[:], n)
		names.Contents = append(names.Contents, ebpf.MapKV{Key: key, Value: uint8(1)})
	}
	return nil
}
