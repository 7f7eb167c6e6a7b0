package kernel

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// TracepointArgs is the number of arguments a raw tracepoint passes to BPF
// programs, read from its btf_trace_<name> prototype in kernel BTF (the
// prototype's leading `void *` is the tracepoint's private data, not an
// argument). Probes use it where a tracepoint's signature changed.
func TracepointArgs(name string) (int, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return 0, fmt.Errorf("reading kernel BTF: %w", err)
	}
	var td *btf.Typedef
	if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
		return 0, fmt.Errorf("tracepoint %s in kernel BTF: %w", name, err)
	}
	ptr, ok := td.Type.(*btf.Pointer)
	if !ok {
		return 0, fmt.Errorf("btf_trace_%s is not a function pointer", name)
	}
	proto, ok := ptr.Target.(*btf.FuncProto)
	if !ok {
		return 0, fmt.Errorf("btf_trace_%s is not a function pointer", name)
	}
	return len(proto.Params) - 1, nil
}

// StructHasMember tells whether kernel BTF's struct name has member field.
func StructHasMember(name, field string) bool {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return false
	}
	return SpecHasMember(spec, name, field)
}

// SpecHasMember is StructHasMember on the types of spec (tests stand in
// an older kernel's).
func SpecHasMember(spec *btf.Spec, name, field string) bool {
	var s *btf.Struct
	if err := spec.TypeByName(name, &s); err != nil {
		return false
	}
	for _, m := range s.Members {
		if m.Name == field {
			return true
		}
	}
	return false
}
