package kernel

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// BTFPath is where the kernel publishes its own type information.
var BTFPath = "/sys/kernel/btf/vmlinux" // a variable so tests can point it elsewhere

// ErrNoBTF means the kernel was built without CONFIG_DEBUG_INFO_BTF.
var ErrNoBTF = errors.New("kernel BTF not found at " + BTFPath +
	": the kernel must be built with CONFIG_DEBUG_INFO_BTF=y (standard on RHEL 8.2+, Debian 11+, Ubuntu 20.10+)")

// CheckPrerequisites reports, in one sentence, the first thing that stops
// any probe from loading: missing BTF or missing capabilities. It also lifts
// the memlock limit that kernels before 5.11 charge BPF maps against.
func CheckPrerequisites() error {
	if _, err := os.Stat(BTFPath); err != nil {
		return ErrNoBTF
	}
	if err := missingCapabilities(); err != nil {
		return err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return ExplainDenied(fmt.Errorf("raising RLIMIT_MEMLOCK: %w", err),
			"raising RLIMIT_MEMLOCK: kernels before 5.11 charge BPF maps to it", CapSysResource)
	}
	return nil
}

// missingCapabilities names what every probe needs to load at all.
func missingCapabilities() error {
	if len(Missing(CapSysAdmin)) == 0 {
		return nil
	}
	if !KernelAtLeast(5, 8) {
		return errors.New("missing capability CAP_SYS_ADMIN: kernels before 5.8 need it to load BPF programs (run as root or grant it)")
	}
	if missing := Missing(CapBPF, CapPerfmon); len(missing) > 0 {
		return &capabilityError{
			msg: fmt.Sprintf("missing capability %s: loading tracing programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); grant them with e.g. setcap cap_bpf,cap_perfmon+ep, or AmbientCapabilities= in the systemd unit",
				capNames(missing)),
			need: &NeedError{Missing: missing, For: "every probe loads tracing programs"},
		}
	}
	return nil
}

// capabilityError is the plugin-wide refusal: its own sentence for the
// log, and the NeedError behind it for the preflight's table.
type capabilityError struct {
	msg  string
	need *NeedError
}

func (e *capabilityError) Error() string { return e.msg }
func (e *capabilityError) Unwrap() error { return e.need }

// KernelAtLeast tells whether the running kernel is major.minor or newer.
func KernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return true
	}
	var maj, min int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &maj, &min)
	return maj > major || (maj == major && min >= minor)
}

// ExplainLoadError explains a refused program load: tracing programs need
// CAP_BPF and CAP_PERFMON.
func ExplainLoadError(err error) error {
	return ExplainDenied(err, "loading tracing programs", CapBPF, CapPerfmon)
}
