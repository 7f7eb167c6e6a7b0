package syscall

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The generated table agrees with x/sys/unix on this GOARCH.
func TestTableMatchesUnix(t *testing.T) {
	if len(syscallNumbers) == 0 {
		t.Skip("no syscall table for this GOARCH")
	}
	for name, nr := range map[string]uint32{
		"fsync": unix.SYS_FSYNC, "fdatasync": unix.SYS_FDATASYNC,
		"sync_file_range": unix.SYS_SYNC_FILE_RANGE, "pwrite64": unix.SYS_PWRITE64,
		"pwritev": unix.SYS_PWRITEV, "io_submit": unix.SYS_IO_SUBMIT,
		"io_getevents": unix.SYS_IO_GETEVENTS, "io_uring_enter": unix.SYS_IO_URING_ENTER,
		"sendmsg": unix.SYS_SENDMSG, "recvmsg": unix.SYS_RECVMSG,
		"clock_nanosleep": unix.SYS_CLOCK_NANOSLEEP, "getpid": unix.SYS_GETPID,
		"fcntl": unix.SYS_FCNTL, "fstat": unix.SYS_FSTAT,
	} {
		require.Equal(t, nr, syscallNumbers[name], name)
	}
	for name, nr := range syscallNumbers {
		require.Less(t, nr, uint32(slots), "%s beyond the kernel filter", name)
	}
}
