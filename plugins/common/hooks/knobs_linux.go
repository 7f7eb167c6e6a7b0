package hooks

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// SetKnobs sets a probe's `const volatile` globals before load: frozen
// .rodata the verifier reads as constants, so a knob that turns code off
// also prunes it. Each map lists name -> value.
func SetKnobs(spec *ebpf.CollectionSpec, knobs ...map[string]any) error {
	for _, set := range knobs {
		for name, v := range set {
			vs, ok := spec.Variables[name]
			if !ok {
				return fmt.Errorf("object lacks knob %s", name)
			}
			if err := vs.Set(v); err != nil {
				return fmt.Errorf("setting %s: %w", name, err)
			}
		}
	}
	return nil
}
