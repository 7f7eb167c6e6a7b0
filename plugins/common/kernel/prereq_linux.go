package kernel

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// BTFPath is where the kernel publishes its own type information.
const BTFPath = "/sys/kernel/btf/vmlinux"

// Capability numbers from include/uapi/linux/capability.h.
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

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
		return fmt.Errorf("raising RLIMIT_MEMLOCK for BPF maps: %w", err)
	}
	return nil
}

func missingCapabilities() error {
	eff, err := effectiveCapabilities()
	if err != nil {
		return nil // cannot tell; let the kernel answer at load time
	}
	has := func(c uint) bool { return eff&(1<<c) != 0 }
	if has(capSysAdmin) {
		return nil
	}
	if !kernelAtLeast(5, 8) {
		return errors.New("missing capability CAP_SYS_ADMIN: kernels before 5.8 need it to load BPF programs (run as root or grant it)")
	}
	var missing []string
	if !has(capBPF) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(capPerfmon) {
		missing = append(missing, "CAP_PERFMON")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing capability %s: loading tracing programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); grant them with e.g. setcap cap_bpf,cap_perfmon+ep, or AmbientCapabilities= in the systemd unit",
			strings.Join(missing, " and "))
	}
	return nil
}

func effectiveCapabilities() (uint64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		}
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return true
	}
	var maj, min int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &maj, &min)
	return maj > major || (maj == major && min >= minor)
}

// ExplainLoadError adds the likely cause to a permission refusal.
func ExplainLoadError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (permission denied: the process needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN; lockdown or kernel.unprivileged_bpf_disabled cannot be bypassed)", err)
	}
	return err
}
