package kernel

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

const tracefsMountPoint = "/sys/kernel/tracing"

// tracefsDirs are where the eBPF library looks for tracefs, in its order.
var tracefsDirs = []string{tracefsMountPoint, "/sys/kernel/debug/tracing"}

// EnsureTracefs mounts tracefs where classic tracepoints look for it, unless
// it is already reachable there or under debugfs. It must run before the
// first classic tracepoint attach: the eBPF library caches the path it finds.
// tracefs is mode 0700 root: a non-root process needs CAP_DAC_READ_SEARCH to
// read it, and CAP_SYS_ADMIN to mount it.
func EnsureTracefs() error {
	for _, dir := range tracefsDirs {
		if _, err := os.Stat(dir + "/events"); err == nil {
			return nil
		}
	}
	mounted := tracefsMounts()
	for _, dir := range tracefsDirs {
		if !slices.Contains(mounted, dir) {
			continue
		}
		_, err := os.Stat(dir + "/events")
		return ExplainDenied(fmt.Errorf("reading tracefs at %s: %w", dir, err),
			"reading tracefs at "+dir+", which is mounted root-only", CapDACReadSearch)
	}
	if len(mounted) > 0 {
		return fmt.Errorf("tracefs is mounted at %s, not at %s where classic tracepoints look for it", strings.Join(mounted, ", "), tracefsMountPoint)
	}
	if err := unix.Mount("nodev", tracefsMountPoint, "tracefs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return ExplainDenied(fmt.Errorf("mounting tracefs on %s: %w", tracefsMountPoint, err),
			"mounting tracefs on "+tracefsMountPoint+" for classic tracepoints; or mount it at boot", CapSysAdmin)
	}
	return nil
}

// tracefsMounts lists where tracefs is mounted (/proc/mounts).
func tracefsMounts() []string {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return nil
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[2] == "tracefs" {
			dirs = append(dirs, f[1])
		}
	}
	return dirs
}

// TracefsStatus says, for the preflight, whether classic tracepoints can
// find tracefs, without mounting it.
func TracefsStatus() string {
	for _, dir := range tracefsDirs {
		if _, err := os.Stat(dir + "/events"); err == nil {
			return "readable at " + dir
		}
	}
	if mounted := tracefsMounts(); len(mounted) > 0 {
		return "mounted at " + strings.Join(mounted, ", ") + " but not readable: classic tracepoints need CAP_DAC_READ_SEARCH"
	}
	return "not mounted: the plugin mounts it on " + tracefsMountPoint + " when a probe falls back to classic tracepoints (needs CAP_SYS_ADMIN)"
}
