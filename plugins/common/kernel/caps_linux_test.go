package kernel_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/captest"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// As nobody without capabilities, the check names the missing ones.
func TestMissingCapabilitiesAreNamed(t *testing.T) {
	if !captest.InChild() {
		captest.Run(t, nil)
		return
	}
	err := kernel.CheckPrerequisites()
	require.Error(t, err)
	if kernel.KernelAtLeast(5, 8) {
		require.ErrorContains(t, err, "missing capability CAP_BPF and CAP_PERFMON: ")
	} else {
		require.ErrorContains(t, err, "missing capability CAP_SYS_ADMIN: ")
	}
}

// As nobody with CAP_BPF and CAP_PERFMON only, a refusal names what the
// purpose lacks, not the errno, and one it holds everything for names the
// other suspects.
func TestDeniedNamesTheMissingCapability(t *testing.T) {
	if !captest.InChild() {
		captest.Run(t, []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon})
		return
	}
	err := kernel.ExplainDenied(fmt.Errorf("load program: %w", unix.EPERM), "cgroup sock_ops", kernel.CapBPF, kernel.CapNetAdmin)
	require.EqualError(t, err, "needs CAP_NET_ADMIN (cgroup sock_ops)")
	require.ErrorIs(t, err, unix.EPERM, "the kernel's refusal stays inspectable")

	err = kernel.ExplainDenied(unix.EACCES, "uprobe through perf_event_open", kernel.CapBPF, kernel.CapPerfmon, kernel.CapSysAdmin)
	require.EqualError(t, err, "needs CAP_SYS_ADMIN (uprobe through perf_event_open)")

	err = kernel.ExplainDenied(unix.EPERM, "raising RLIMIT_MEMLOCK", kernel.CapSysResource)
	require.EqualError(t, err, "needs CAP_SYS_RESOURCE (raising RLIMIT_MEMLOCK)")

	err = kernel.ExplainDenied(unix.EPERM, "loading tracing programs", kernel.CapBPF, kernel.CapPerfmon)
	require.ErrorContains(t, err, "refused although the process holds CAP_BPF and CAP_PERFMON: kernel lockdown (")

	other := errors.New("no such tracepoint")
	require.Equal(t, other, kernel.ExplainDenied(other, "anything", kernel.CapSysAdmin))
}

// tracefs mounted root-only (mode 0700): reading it needs
// CAP_DAC_READ_SEARCH, which is what the message says; mounting is not tried.
func TestUnreadableTracefsNamesDACReadSearch(t *testing.T) {
	const mode = "EBPF_LATENCY_TRACEFS_CAPS"
	if !captest.InChild() {
		requireTracefsMounted(t)
		captest.Run(t, []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon}, mode+"=without")
		captest.Run(t, []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon, kernel.CapDACReadSearch}, mode+"=with")
		return
	}
	err := kernel.EnsureTracefs()
	if os.Getenv(mode) == "with" {
		require.NoError(t, err)
		return
	}
	require.EqualError(t, err, "needs CAP_DAC_READ_SEARCH (reading tracefs at /sys/kernel/tracing, which is mounted root-only)")
}

// requireTracefsMounted mounts tracefs for the test unless it is there, and
// unmounts it afterwards only if the test mounted it.
func requireTracefsMounted(t *testing.T) {
	t.Helper()
	mounts, err := os.ReadFile("/proc/mounts")
	require.NoError(t, err)
	if strings.Contains(string(mounts), " /sys/kernel/tracing tracefs ") {
		return
	}
	require.NoError(t, unix.Mount("nodev", "/sys/kernel/tracing", "tracefs", 0, ""))
	t.Cleanup(func() { require.NoError(t, unix.Unmount("/sys/kernel/tracing", 0)) })
}

func TestLockdownMode(t *testing.T) {
	require.Equal(t, "integrity", kernel.ActiveLockdown("none [integrity] confidentiality\n"))
	require.Equal(t, "none", kernel.ActiveLockdown("[none] integrity confidentiality\n"))
}
