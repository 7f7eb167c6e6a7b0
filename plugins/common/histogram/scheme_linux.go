package histogram

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// SetScheme sets the object's hist_scheme knob (histogram.bpf.h) before
// load: frozen .rodata, so the verifier prunes the other scheme's math.
func SetScheme(spec *ebpf.CollectionSpec, s Scheme) error {
	v, ok := spec.Variables["hist_scheme"]
	if !ok {
		return fmt.Errorf("object lacks knob hist_scheme")
	}
	if err := v.Set(uint32(s)); err != nil {
		return fmt.Errorf("setting hist_scheme: %w", err)
	}
	return nil
}
