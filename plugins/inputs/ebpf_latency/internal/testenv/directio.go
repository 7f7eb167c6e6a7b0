//go:build linux

package testenv

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BlockSize is the size and alignment of every I/O issued by IssueDirect.
const BlockSize = 4096

// IssueDirect opens devPath with O_DIRECT and issues exactly n BlockSize
// pwrites (write=true) or preads at offsets (firstBlock+i)*BlockSize, failing
// the test on any error or short transfer. It does not fsync.
func IssueDirect(t testing.TB, devPath string, write bool, n int, firstBlock int64) {
	t.Helper()
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_RDWR
	}
	fd, err := unix.Open(devPath, flags|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s O_DIRECT: %v", devPath, err)
	}
	defer unix.Close(fd)

	// O_DIRECT needs an aligned buffer; an anonymous mapping is page aligned,
	// which Go's allocator does not guarantee for a []byte.
	buf, err := unix.Mmap(-1, 0, BlockSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatalf("mmap I/O buffer: %v", err)
	}
	defer unix.Munmap(buf)

	for i := 0; i < n; i++ {
		off := (firstBlock + int64(i)) * BlockSize
		var got int
		if write {
			for j := range buf {
				buf[j] = byte(int64(i) + firstBlock + int64(j))
			}
			got, err = unix.Pwrite(fd, buf, off)
		} else {
			got, err = unix.Pread(fd, buf, off)
		}
		if err != nil || got != BlockSize {
			t.Fatalf("%s %s at offset %d: n=%d err=%v", ioName(write), devPath, off, got, err)
		}
	}
}

// Fdatasync opens devPath read-write and calls fdatasync(2) once, which on a
// block device sends a cache flush down the stack.
func Fdatasync(t testing.TB, devPath string) {
	t.Helper()
	fd, err := unix.Open(devPath, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s: %v", devPath, err)
	}
	defer unix.Close(fd)
	if err := unix.Fdatasync(fd); err != nil {
		t.Fatalf("fdatasync %s: %v", devPath, err)
	}
}

func ioName(write bool) string {
	if write {
		return "pwrite"
	}
	return "pread"
}
