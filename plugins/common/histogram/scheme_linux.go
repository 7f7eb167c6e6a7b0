package histogram

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// SetScheme sets the object's hist_scheme knob (histogram.bpf.h) before
// load, frozen .rodata so the verifier prunes the other scheme's math, and
// cuts every histogram map's value to the scheme's slots: a log2 value
// holds 32, not the 122 the object was compiled with.
func SetScheme(spec *ebpf.CollectionSpec, s Scheme) error {
	v, ok := spec.Variables["hist_scheme"]
	if !ok {
		return fmt.Errorf("object lacks knob hist_scheme")
	}
	if err := v.Set(uint32(s)); err != nil {
		return fmt.Errorf("setting hist_scheme: %w", err)
	}
	for name, m := range spec.Maps {
		if err := cutValue(m, s); err != nil {
			return fmt.Errorf("sizing map %s for the scheme: %w", name, err)
		}
	}
	return nil
}

// cutValue shrinks a histogram map's value (histogram.h: its last member
// is `slots`, HIST_MAX_SLOTS per histogram) to s's slots, in ValueSize and
// in the BTF the kernel checks ValueSize against. Other maps stay as they are.
func cutValue(m *ebpf.MapSpec, s Scheme) error {
	value, ok := btf.As[*btf.Struct](m.Value)
	if !ok || len(value.Members) == 0 {
		return nil
	}
	last := value.Members[len(value.Members)-1]
	slots, ok := btf.As[*btf.Array](last.Type)
	if last.Name != "slots" || !ok {
		return nil
	}
	// As compiled, or cut already (SetScheme again on the same spec).
	stages := slots.Nelems / MaxSlots
	if slots.Nelems%MaxSlots != 0 {
		stages = slots.Nelems / Slots
	}
	if stages == 0 || slots.Nelems != stages*MaxSlots && slots.Nelems != stages*Slots ||
		last.Offset%64 != 0 || value.Size != last.Offset.Bytes()+slots.Nelems*8 || m.ValueSize != value.Size {
		return fmt.Errorf("value %s is not histogram.h's shape (slots: %d at byte %d of %d)",
			value.Name, slots.Nelems, last.Offset.Bytes(), value.Size)
	}
	cut := btf.Copy(value).(*btf.Struct)
	cutSlots := btf.Copy(slots).(*btf.Array)
	cutSlots.Nelems = stages * uint32(s.Slots())
	cut.Members[len(cut.Members)-1].Type = cutSlots
	cut.Size = last.Offset.Bytes() + cutSlots.Nelems*8
	m.Value, m.ValueSize = cut, cut.Size
	return nil
}
