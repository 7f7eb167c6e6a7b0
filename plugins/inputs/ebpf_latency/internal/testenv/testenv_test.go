//go:build linux

package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestTmpfsLoopDirectIO(t *testing.T) {
	RequirePrivileged(t)
	var (
		dev       *LoopDevice
		dir, kimg string
	)
	// Resources live in a subtest so that its cleanups have run when it
	// returns, letting us check they actually released everything.
	t.Run("use", func(t *testing.T) {
		dir = TmpfsDir(t)
		if !isMounted(t, dir) {
			t.Fatalf("tmpfs not mounted on %s", dir)
		}
		img := filepath.Join(dir, "disk.img")
		if err := os.WriteFile(img, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, 64<<20); err != nil {
			t.Fatal(err)
		}

		dev = NewLoopDevice(t, img)
		kimg = checkLoopAttrs(t, dev, img)

		IssueDirect(t, dev.Path, true, 8, 0)
		IssueDirect(t, dev.Path, false, 8, 0)
		Fdatasync(t, dev.Path)

		// Block 3 went through the loop device into the file.
		got := make([]byte, BlockSize)
		f, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.ReadAt(got, 3*BlockSize); err != nil {
			t.Fatal(err)
		}
		// IssueDirect fills block b with byte(b + offset-in-block).
		last := byte((3 + BlockSize - 1) % 256)
		if got[0] != 3 || got[BlockSize-1] != last {
			t.Errorf("block 3 in backing file: first/last byte %d/%d, want 3/%d",
				got[0], got[BlockSize-1], last)
		}
	})
	requireDetached(t, dev, kimg)
	if isMounted(t, dir) {
		t.Errorf("tmpfs still mounted on %s", dir)
	}
}

func TestDelayedFileLoop(t *testing.T) {
	RequirePrivileged(t)
	const delay = 20 * time.Millisecond
	var (
		dev       *LoopDevice
		mnt, kimg string
	)
	t.Run("use", func(t *testing.T) {
		img := NewDelayedFile(t, 16<<20, delay)
		mnt = filepath.Dir(img)
		if !isMounted(t, mnt) {
			t.Fatalf("FUSE not mounted on %s", mnt)
		}
		dev = NewLoopDevice(t, img)
		kimg = checkLoopAttrs(t, dev, img)

		// Every I/O reaching the loop device must pay the delay: neither the
		// block layer (O_DIRECT) nor FUSE (direct_io) may cache it.
		IssueDirect(t, dev.Path, true, 1, 5)
		start := time.Now()
		for i := int64(0); i < 3; i++ {
			t0 := time.Now()
			IssueDirect(t, dev.Path, false, 1, 5)
			took := time.Since(t0)
			t.Logf("read %d took %v", i, took)
			if took < delay {
				t.Errorf("read %d took %v, want >= %v", i, took, delay)
			}
		}
		if total := time.Since(start); total >= 3*time.Second {
			t.Errorf("3 reads took %v, want < 3s", total)
		}
	})
	requireDetached(t, dev, kimg)
	if isMounted(t, mnt) {
		t.Errorf("FUSE still mounted on %s", mnt)
	}
}

// checkLoopAttrs cross-checks the LoopDevice against sysfs and returns the
// backing file path as the kernel reports it.
func checkLoopAttrs(t *testing.T, dev *LoopDevice, backing string) string {
	t.Helper()
	sys := filepath.Join("/sys/block", dev.Name)
	// Compare with the path the kernel sees, TMPDIR may contain symlinks.
	backing, err := filepath.EvalSymlinks(backing)
	if err != nil {
		t.Fatal(err)
	}
	for attr, want := range map[string]string{
		"dev":               fmt.Sprintf("%d:%d", dev.Major, dev.Minor),
		"loop/backing_file": backing,
		"loop/dio":          "0",
		"loop/autoclear":    "0",
		"ro":                "0",
	} {
		if got := readAttr(t, sys, attr); got != want {
			t.Errorf("%s/%s = %q, want %q", sys, attr, got, want)
		}
	}
	return backing
}

func readAttr(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(b))
}

// requireDetached checks that dev is no longer bound to backing. With other
// test processes running, the freed device may already be bound again, to
// another file, so "backing_file exists" alone would be a false alarm.
func requireDetached(t *testing.T, dev *LoopDevice, backing string) {
	t.Helper()
	if dev == nil {
		t.Fatal("no loop device was created")
	}
	if bound, ok := BoundBackingFile(dev.Name); ok && bound == backing {
		t.Errorf("%s still attached to %s", dev.Path, bound)
	}
}

func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}

// udevd probes a block device (blkid: a read the disk probe would count)
// only once it gets a shared BSD lock on it, and puts the event off while it
// cannot: a loop device of ours refuses that lock while it is bound.
func TestLoopDeviceLockedAgainstUdev(t *testing.T) {
	RequirePrivileged(t)
	img := filepath.Join(TmpfsDir(t), "disk.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := NewLoopDevice(t, img)
	fd, err := unix.Open(dev.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0) // as udevd opens it
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Fatalf("udevd's shared lock on %s: got %v, want EWOULDBLOCK", dev.Path, err)
	}
}
