//go:build linux

package testenv

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// partitionStart is the first sector of the one partition NewPartitionedLoop
// writes (1 MiB in, as partitioning tools align it).
const partitionStart = 2048

// NewPartitionedLoop writes an MBR partition table with one Linux partition
// spanning the rest of backingFile, attaches it with partition scanning, and
// returns the disk and its partition's device node (e.g. "/dev/loop3p1").
// Kernels built without the msdos parser (as here) find no partition in the
// table: the partition is then added the way partx does, through BLKPG.
func NewPartitionedLoop(t testing.TB, backingFile string) (disk *LoopDevice, partition string) {
	t.Helper()
	st, err := os.Stat(backingFile)
	if err != nil {
		t.Fatalf("stat %s: %v", backingFile, err)
	}
	sectors := uint32(st.Size()/512) - partitionStart
	mbr := make([]byte, 512)
	entry := mbr[446:462]
	entry[4] = 0x83 // Linux
	binary.LittleEndian.PutUint32(entry[8:], partitionStart)
	binary.LittleEndian.PutUint32(entry[12:], sectors)
	mbr[510], mbr[511] = 0x55, 0xaa
	f, err := os.OpenFile(backingFile, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", backingFile, err)
	}
	_, err = f.WriteAt(mbr, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("write partition table to %s: %v", backingFile, err)
	}
	disk = newLoopDevice(t, backingFile, unix.LO_FLAGS_PARTSCAN)
	partition = disk.Path + "p1"
	if _, err := os.Stat(filepath.Join("/sys/block", disk.Name, disk.Name+"p1")); err != nil {
		addPartition(t, disk.Path, partitionStart*512, int64(sectors)*512)
	}
	waitForNode(t, partition)
	return disk, partition
}

// addPartition adds partition 1 (offsets in bytes) to disk with BLKPG and
// deletes it again at test end, before the disk is detached.
func addPartition(t testing.TB, disk string, start, length int64) {
	t.Helper()
	blkpg := func(op int32) error {
		fd, err := unix.Open(disk, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		part := unix.BlkpgPartition{Start: start, Length: length, Pno: 1}
		arg := unix.BlkpgIoctlArg{Op: op, Datalen: int32(unsafe.Sizeof(part)), Data: (*byte)(unsafe.Pointer(&part))}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.BLKPG, uintptr(unsafe.Pointer(&arg)))
		if errno != 0 {
			return errno
		}
		return nil
	}
	if err := blkpg(unix.BLKPG_ADD_PARTITION); err != nil {
		t.Fatalf("BLKPG_ADD_PARTITION on %s: %v", disk, err)
	}
	t.Cleanup(func() {
		if err := blkpg(unix.BLKPG_DEL_PARTITION); err != nil {
			t.Errorf("BLKPG_DEL_PARTITION on %s: %v", disk, err)
		}
	})
}

// NewLinearDM stacks a device-mapper linear target over the whole of device
// (dmsetup, without udev) and returns its node, e.g. "/dev/dm-2"; it is
// removed at test end. See HaveDeviceMapper.
func NewLinearDM(t testing.TB, device string) string {
	t.Helper()
	if !HaveDeviceMapper() {
		t.Fatal("this kernel has no device-mapper (CONFIG_BLK_DEV_DM)")
	}
	if _, err := exec.LookPath("dmsetup"); err != nil {
		t.Fatal("dmsetup not installed (make deps)")
	}
	sectors, err := os.ReadFile(filepath.Join("/sys/class/block", filepath.Base(device), "size"))
	if err != nil {
		t.Fatalf("size of %s: %v", device, err)
	}
	name := fmt.Sprintf("ebpf-latency-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	table := fmt.Sprintf("0 %s linear %s 0", strings.TrimSpace(string(sectors)), device)
	run(t, "dmsetup", "create", name, "--noudevsync", "--table", table)
	t.Cleanup(func() {
		// Retried: a just-unmounted device can stay busy for a moment.
		var out []byte
		for i := 0; i < 50; i++ {
			if out, err = exec.Command("dmsetup", "remove", "--noudevsync", name).CombinedOutput(); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("dmsetup remove %s: %v: %s", name, err, out)
	})
	majMin := strings.TrimSpace(string(run(t, "dmsetup", "info", "--noheadings", "-c", "-o", "major,minor", name)))
	node, err := filepath.EvalSymlinks("/sys/dev/block/" + strings.ReplaceAll(majMin, ",", ":"))
	if err != nil {
		t.Fatalf("sysfs node of %s (%s): %v", name, majMin, err)
	}
	dev := "/dev/" + filepath.Base(node)
	waitForNode(t, dev)
	return dev
}

// HaveDeviceMapper says whether the kernel has device-mapper (some test
// kernels, like this project's CI VM, are built without it).
func HaveDeviceMapper() bool {
	_, err := os.Stat("/sys/class/misc/device-mapper")
	return err == nil
}

// MountExt4 makes an ext4 filesystem on device (all metadata written now,
// no lazy init), mounts it noatime on a fresh directory and returns that;
// it is unmounted at test end.
func MountExt4(t testing.TB, device string) string {
	t.Helper()
	run(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", device)
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
	if err := unix.Mount(device, dir, "ext4", unix.MS_NOATIME, ""); err != nil {
		t.Fatalf("mount %s on %s: %v", device, dir, err)
	}
	t.Cleanup(func() { unmount(t, dir) })
	return dir
}

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// waitForNode waits for devtmpfs to create a device node.
func waitForNode(t testing.TB, node string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(node); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("device node %s did not appear", node)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
