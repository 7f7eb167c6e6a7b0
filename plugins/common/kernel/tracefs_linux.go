package kernel

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const tracefsMountPoint = "/sys/kernel/tracing"

// EnsureTracefs mounts tracefs where classic tracepoints look for it, unless
// it is already reachable there or under debugfs. It must run before the
// first classic tracepoint attach: the eBPF library caches the path it finds.
func EnsureTracefs() error {
	for _, dir := range []string{tracefsMountPoint, "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(dir + "/events"); err == nil {
			return nil
		}
	}
	if err := unix.Mount("nodev", tracefsMountPoint, "tracefs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("mounting tracefs on %s (needed for classic tracepoints): %w", tracefsMountPoint, err)
	}
	return nil
}
