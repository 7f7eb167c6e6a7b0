package kernel

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Capability is one Linux capability (include/uapi/linux/capability.h).
type Capability struct {
	Bit  uint
	Name string
}

// The capabilities some probe path needs when the plugin does not run as root.
var (
	CapDACOverride   = Capability{1, "CAP_DAC_OVERRIDE"}
	CapDACReadSearch = Capability{2, "CAP_DAC_READ_SEARCH"}
	CapNetAdmin      = Capability{12, "CAP_NET_ADMIN"}
	CapSysAdmin      = Capability{21, "CAP_SYS_ADMIN"}
	CapSysResource   = Capability{24, "CAP_SYS_RESOURCE"}
	CapPerfmon       = Capability{38, "CAP_PERFMON"}
	CapBPF           = Capability{39, "CAP_BPF"}
)

// insteadOf lists what the kernel also accepts for a capability: it tests
// bpf_capable(), perfmon_capable() and bpf_net_capable() as "or
// CAP_SYS_ADMIN", and CAP_DAC_OVERRIDE passes every read permission check.
var insteadOf = map[Capability]Capability{
	CapBPF:           CapSysAdmin,
	CapPerfmon:       CapSysAdmin,
	CapNetAdmin:      CapSysAdmin,
	CapDACReadSearch: CapDACOverride,
}

// effectiveCapabilities is the process's effective set (CapEff).
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

// Missing lists those of caps the process lacks (counting what the kernel
// accepts instead); nil when it holds them all or cannot tell.
func Missing(caps ...Capability) []Capability {
	eff, err := effectiveCapabilities()
	if err != nil {
		return nil
	}
	has := func(c Capability) bool { return eff&(1<<c.Bit) != 0 }
	var missing []Capability
	for _, c := range caps {
		if alt, ok := insteadOf[c]; !has(c) && !(ok && has(alt)) {
			missing = append(missing, c)
		}
	}
	return missing
}

// NeedError is a kernel refusal explained by the capabilities the process
// lacks for one purpose: "needs CAP_NET_ADMIN (cgroup sock_ops)".
type NeedError struct {
	Missing []Capability
	For     string // what needs them, e.g. "cgroup sock_ops"
	Err     error  // the kernel's refusal
}

func (e *NeedError) Error() string {
	return fmt.Sprintf("needs %s (%s)", capNames(e.Missing), e.For)
}

func (e *NeedError) Unwrap() error { return e.Err }

func capNames(caps []Capability) string {
	names := make([]string, len(caps))
	for i, c := range caps {
		names[i] = c.Name
	}
	return strings.Join(names, " and ")
}

// IsDenied tells whether err is the kernel's EPERM or EACCES.
func IsDenied(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// ExplainDenied turns a permission refusal into the capabilities that
// purpose needs and the process lacks. When it holds them all, the refusal
// comes from elsewhere, and the message says where to look instead.
func ExplainDenied(err error, purpose string, caps ...Capability) error {
	if !IsDenied(err) {
		return err
	}
	if missing := Missing(caps...); len(missing) > 0 {
		return &NeedError{Missing: missing, For: purpose, Err: err}
	}
	return fmt.Errorf("%w (%s refused although the process holds %s: kernel lockdown (%s), an LSM policy or kernel.unprivileged_bpf_disabled)",
		err, purpose, capNames(caps), Lockdown())
}

// lockdownPath shows the kernel lockdown mode (needs securityfs).
const lockdownPath = "/sys/kernel/security/lockdown"

// Lockdown is the active kernel lockdown mode ("none", "integrity",
// "confidentiality"), or a note that it cannot be read.
func Lockdown() string {
	data, err := os.ReadFile(lockdownPath)
	if err != nil {
		return "mode unknown: " + lockdownPath + " unreadable (securityfs not mounted, or no lockdown LSM)"
	}
	return ActiveLockdown(string(data))
}

// ActiveLockdown picks the bracketed mode: "none [integrity] confidentiality".
func ActiveLockdown(s string) string {
	if _, rest, ok := strings.Cut(s, "["); ok {
		if mode, _, ok := strings.Cut(rest, "]"); ok {
			return mode
		}
	}
	return strings.TrimSpace(s)
}

// Relevant lists the capabilities some probe path uses, for the preflight.
var Relevant = []Capability{CapBPF, CapPerfmon, CapNetAdmin, CapDACReadSearch, CapSysAdmin, CapSysResource}

// Held lists those of caps in the effective set, not counting substitutes.
func Held(caps ...Capability) []Capability {
	eff, err := effectiveCapabilities()
	if err != nil {
		return nil
	}
	var held []Capability
	for _, c := range caps {
		if eff&(1<<c.Bit) != 0 {
			held = append(held, c)
		}
	}
	return held
}

// CapNames joins capability names with " and ".
func CapNames(caps []Capability) string { return capNames(caps) }
