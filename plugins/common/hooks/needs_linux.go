package hooks

import (
	"errors"
	"fmt"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// Needs is what a flavour's programs need, beyond root, to load and
// attach; measured on Linux 6.18 as an unprivileged user with only these
// capabilities (see docs/install.md).
func (k Kind) Needs() (purpose string, caps []kernel.Capability) {
	switch k {
	case SockOps:
		return "cgroup sock_ops", []kernel.Capability{kernel.CapBPF, kernel.CapNetAdmin}
	case Uprobe:
		// perf_event_open of a uprobe wants CAP_SYS_ADMIN again since
		// Linux 6.16 (commit ba677dbe, backported to stable kernels).
		return "uprobe through perf_event_open", []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon, kernel.CapSysAdmin}
	case Tracepoint:
		return "classic tracepoint", []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon}
	}
	return k.String() + " tracing programs", []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon}
}

// explainDenied names the capabilities a refused step lacked; a refusal
// for want of them reads "needs CAP_X (purpose)" without the kernel's errno.
func explainDenied(step string, err error, kind Kind) error {
	purpose, caps := kind.Needs()
	err = kernel.ExplainDenied(err, purpose, caps...)
	var need *kernel.NeedError
	if errors.As(err, &need) {
		return err
	}
	return fmt.Errorf("%s: %w", step, err)
}
