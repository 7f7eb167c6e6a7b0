//go:build linux

package testenv

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

//go:embed fusedelay.c
var fusedelaySource []byte

const fuseReadyTimeout = 10 * time.Second

var fusedelay struct {
	once sync.Once
	bin  string
	err  error
}

// fusedelayBinary compiles fusedelay.c once per test binary. The output
// directory is intentionally not removed: it must outlive every test that
// uses it, and there is no per-binary teardown hook in a helper package.
func fusedelayBinary() (string, error) {
	fusedelay.once.Do(func() {
		dir, err := os.MkdirTemp("", "testenv-fusedelay-")
		if err != nil {
			fusedelay.err = err
			return
		}
		src := filepath.Join(dir, "fusedelay.c")
		if err := os.WriteFile(src, fusedelaySource, 0o644); err != nil {
			fusedelay.err = err
			return
		}
		flags, err := exec.Command("pkg-config", "--cflags", "--libs", "fuse3").Output()
		if err != nil {
			fusedelay.err = fmt.Errorf("pkg-config fuse3 (is libfuse3-dev installed?): %w", err)
			return
		}
		bin := filepath.Join(dir, "fusedelay")
		// The libraries must follow the source file for the linker.
		args := append([]string{"-O2", "-Wall", "-o", bin, src}, strings.Fields(string(flags))...)
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			fusedelay.err = fmt.Errorf("gcc %s: %w\n%s", strings.Join(args, " "), err, out)
			return
		}
		fusedelay.bin = bin
	})
	return fusedelay.bin, fusedelay.err
}

// NewDelayedFile mounts a FUSE filesystem serving a single in-memory file of
// size bytes whose every read and write is delayed by delay, and returns the
// file's path (<mountpoint>/disk.img). The file is opened with FUSE direct_io,
// so the page cache never absorbs I/O. The filesystem is unmounted and its
// daemon killed in t.Cleanup; a loop device put over the file afterwards is
// cleaned up first (LIFO), which is what lets the unmount succeed.
func NewDelayedFile(t testing.TB, size int64, delay time.Duration) string {
	t.Helper()
	bin, err := fusedelayBinary()
	if err != nil {
		t.Fatalf("build fusedelay: %v", err)
	}
	mnt := t.TempDir()

	var stderr bytes.Buffer
	cmd := exec.Command(bin, strconv.FormatInt(size, 10),
		strconv.FormatInt(delay.Microseconds(), 10), "-f", "-o", "fsname=fusedelay", mnt)
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	// Own process group: a ^C to `go test` does not hit the daemon before
	// the cleanup has unmounted it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start fusedelay: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var exitErr error
	hasExited := false

	t.Cleanup(func() {
		if !hasExited {
			unmount(t, mnt)
		}
		// By pid, never by name: other tests may run their own fusedelay.
		_ = cmd.Process.Kill()
		if !hasExited {
			<-exited
		}
	})

	// Reading stderr is only safe once the process has exited (the copying
	// goroutine inside exec writes to the buffer until then).
	fail := func(format string, args ...any) {
		t.Helper()
		if !hasExited {
			_ = cmd.Process.Kill()
			exitErr, hasExited = <-exited, true
			_ = unix.Unmount(mnt, unix.MNT_DETACH)
		}
		t.Fatalf("fusedelay: "+format+" (exit: %v)\nstderr:\n%s", append(args, exitErr, stderr.String())...)
	}

	img := filepath.Join(mnt, "disk.img")
	deadline := time.Now().Add(fuseReadyTimeout)
	for {
		select {
		case exitErr = <-exited:
			hasExited = true
			fail("exited before %s appeared", img)
		default:
		}
		fi, err := os.Stat(img)
		if err == nil && fi.Size() == size {
			return img
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("size %d, want %d", fi.Size(), size)
			}
			fail("%s not ready after %v: %v", img, fuseReadyTimeout, err)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Logf("waiting for %s: %v", img, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
