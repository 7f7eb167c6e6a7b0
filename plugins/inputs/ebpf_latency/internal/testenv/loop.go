//go:build linux

package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// LoopDevice is a loop block device attached by NewLoopDevice.
type LoopDevice struct {
	Path         string // e.g. "/dev/loop3"
	Major, Minor uint32
	Name         string // e.g. "loop3", as in /sys/block and the kernel's disk name
}

const (
	loopAttachAttempts = 10
	loopDetachTimeout  = 10 * time.Second
)

// errLoopBusy means another process bound the free device we were handed.
var errLoopBusy = errors.New("loop device taken concurrently")

// NewLoopDevice attaches backingFile read-write to a free loop device using
// the loop ioctls directly (no losetup), without direct I/O and without
// autoclear. The device is detached, and its fds closed, in t.Cleanup.
func NewLoopDevice(t testing.TB, backingFile string) *LoopDevice {
	t.Helper()
	return newLoopDevice(t, backingFile, 0)
}

// newLoopDevice is NewLoopDevice with LO_FLAGS_* flags (partscan).
func newLoopDevice(t testing.TB, backingFile string, flags uint32) *LoopDevice {
	t.Helper()
	backing, err := os.OpenFile(backingFile, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open loop backing file: %v", err)
	}
	ctl, err := unix.Open("/dev/loop-control", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		backing.Close()
		t.Fatalf("open /dev/loop-control: %v", err)
	}
	defer unix.Close(ctl)

	// LOOP_CTL_GET_FREE only names a currently unbound device; anyone can bind
	// it before we do, in which case the bind ioctl fails with EBUSY: retry.
	var (
		num, fd int
		lastErr error
	)
	for attempt := 0; attempt < loopAttachAttempts; attempt++ {
		num, err = unix.IoctlRetInt(ctl, unix.LOOP_CTL_GET_FREE)
		if err != nil {
			backing.Close()
			t.Fatalf("LOOP_CTL_GET_FREE: %v", err)
		}
		fd, lastErr = attachLoop(num, backing, flags)
		if lastErr == nil {
			break
		}
		if !errors.Is(lastErr, errLoopBusy) {
			backing.Close()
			t.Fatalf("attach %s to loop%d: %v", backingFile, num, lastErr)
		}
		t.Logf("retrying loop attach: %v", lastErr)
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	if lastErr != nil {
		backing.Close()
		t.Fatalf("attach %s: %v after %d attempts", backingFile, lastErr, loopAttachAttempts)
	}
	return boundLoop(t, num, fd, backing)
}

// boundLoop is the LoopDevice of /dev/loop<num>, bound to backing through
// fd; it is detached at cleanup.
func boundLoop(t testing.TB, num, fd int, backing *os.File) *LoopDevice {
	t.Helper()
	dev := &LoopDevice{Path: fmt.Sprintf("/dev/loop%d", num), Name: fmt.Sprintf("loop%d", num)}
	// The kernel's view of the backing path (symlinks resolved), used to
	// tell our binding apart from a later one of the same device.
	kernelPath, _ := BoundBackingFile(dev.Name)
	t.Cleanup(func() { detachLoop(t, dev, fd, backing, kernelPath) })

	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatalf("stat %s: %v", dev.Path, err)
	}
	dev.Major, dev.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	return dev
}

// NewAddedLoopDevice is NewLoopDevice on a loop device made for it
// (LOOP_CTL_ADD, the first number /sys/block has none of): a disk that did
// not exist before, as a hot-plugged one. It is removed at cleanup, after
// the detach.
func NewAddedLoopDevice(t testing.TB, backingFile string) *LoopDevice {
	t.Helper()
	backing, err := os.OpenFile(backingFile, os.O_RDWR, 0)
	require.NoError(t, err)
	ctl, err := unix.Open("/dev/loop-control", unix.O_RDWR|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(ctl)
	num := 0
	for ; ; num++ {
		if _, err = os.Stat(fmt.Sprintf("/sys/block/loop%d", num)); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err = unix.IoctlSetInt(ctl, unix.LOOP_CTL_ADD, num); !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	require.NoError(t, err, "LOOP_CTL_ADD loop%d", num)
	t.Cleanup(func() { removeLoop(t, num) })
	fd, err := attachLoop(num, backing, 0)
	if err != nil {
		backing.Close()
		t.Fatalf("attach %s to the added loop%d: %v", backingFile, num, err)
	}
	return boundLoop(t, num, fd, backing)
}

// removeLoop removes /dev/loop<num> (LOOP_CTL_REMOVE), waiting while an
// opener (udev's blkid) still holds it.
func removeLoop(t testing.TB, num int) {
	t.Helper()
	ctl, err := unix.Open("/dev/loop-control", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Errorf("open /dev/loop-control: %v", err)
		return
	}
	defer unix.Close(ctl)
	deadline := time.Now().Add(loopDetachTimeout)
	for {
		err := unix.IoctlSetInt(ctl, unix.LOOP_CTL_REMOVE, num)
		if err == nil || errors.Is(err, unix.ENODEV) {
			return
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			t.Errorf("LOOP_CTL_REMOVE loop%d: %v", num, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// attachLoop binds backing to /dev/loop<num> and returns the open device fd.
// It returns an error wrapping errLoopBusy when the device was taken or
// vanished between LOOP_CTL_GET_FREE and the bind.
//
// The fd holds a BSD exclusive lock on the device before the bind, until the
// detach: udevd takes a shared one before it probes a block device (blkid)
// and puts the event off while it cannot (systemd.io/BLOCK_DEVICE_LOCKING),
// so neither the bind's change event nor the ones its inotify watch makes
// when a test closes the device after writing add a read to an exact count.
func attachLoop(num int, backing *os.File, flags uint32) (int, error) {
	path := fmt.Sprintf("/dev/loop%d", num)
	fd, err := openLoopNode(path)
	if err != nil {
		return -1, err
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("locking %s against udev: %w", path, err)
	}
	info := unix.LoopInfo64{Flags: flags} // read-write, no autoclear, no direct I/O
	copy(info.File_name[:len(info.File_name)-1], backing.Name())

	cfg := unix.LoopConfig{Fd: uint32(backing.Fd()), Info: info}
	err = unix.IoctlLoopConfigure(fd, &cfg)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
		// Kernel without LOOP_CONFIGURE (< 5.8): the two-step legacy way.
		err = unix.IoctlSetInt(fd, unix.LOOP_SET_FD, int(backing.Fd()))
		if err == nil {
			if err = unix.IoctlLoopSetStatus64(fd, &info); err != nil {
				_ = unix.IoctlSetInt(fd, unix.LOOP_CLR_FD, 0)
				unix.Close(fd)
				return -1, fmt.Errorf("LOOP_SET_STATUS64: %w", err)
			}
		}
	}
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EBUSY) {
			return -1, fmt.Errorf("%w: %s: %v", errLoopBusy, path, err)
		}
		return -1, fmt.Errorf("bind %s: %w", path, err)
	}
	return fd, nil
}

// openLoopNode opens a loop device node, tolerating devtmpfs creating the
// node slightly after LOOP_CTL_GET_FREE allocated a new device.
func openLoopNode(path string) (int, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.ENXIO):
			// Removed (LOOP_CTL_REMOVE) by someone else in the meantime.
			return -1, fmt.Errorf("%w: open %s: %v", errLoopBusy, path, err)
		case errors.Is(err, unix.ENOENT) && time.Now().Before(deadline):
			time.Sleep(10 * time.Millisecond)
		default:
			return -1, fmt.Errorf("open %s: %w", path, err)
		}
	}
}

// detachLoop issues LOOP_CLR_FD and closes the fds. Since Linux 5.x the
// kernel only marks the device for teardown and detaches it on the last
// close, possibly after another opener (udev's blkid...) lets go; wait for
// that so the backing file (and its filesystem) is no longer pinned when the
// next cleanup runs.
func detachLoop(t testing.TB, dev *LoopDevice, fd int, backing *os.File, kernelPath string) {
	t.Helper()
	if err := unix.IoctlSetInt(fd, unix.LOOP_CLR_FD, 0); err != nil && !errors.Is(err, unix.ENXIO) {
		t.Errorf("LOOP_CLR_FD %s: %v", dev.Path, err)
	}
	unix.Close(fd)
	backing.Close()

	deadline := time.Now().Add(loopDetachTimeout)
	for {
		// Once free, the device may at once be bound again by another test
		// process: only our own binding counts.
		if bound, ok := BoundBackingFile(dev.Name); !ok || bound != kernelPath {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s still attached %v after LOOP_CLR_FD", dev.Path, loopDetachTimeout)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BoundBackingFile returns the backing file the kernel reports for loop
// device name (e.g. "loop3"), from /sys/block/<name>/loop/backing_file;
// ok is false when the device is not bound.
func BoundBackingFile(name string) (path string, ok bool) {
	b, err := os.ReadFile(filepath.Join("/sys/block", name, "loop", "backing_file"))
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(b), "\n"), true
}
