package disk

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// diskLayers resolves a path (a file or directory) to the whole disks whose
// requests carry its I/O: the filesystem's block device, then down through
// partitions (to their disk) and stacked devices (device-mapper, md: their
// slaves/) to the disks at the bottom, which are the ones block_rq_* see.
type diskLayers struct {
	sysfs     string // "/sys" unless a test says otherwise
	mountinfo string // "/proc/self/mountinfo"
}

func newDiskLayers() diskLayers {
	return diskLayers{sysfs: "/sys", mountinfo: "/proc/self/mountinfo"}
}

// disksUnder returns the sorted whole-disk names under path and the chain of
// devices it passed through (e.g. "dm-0 -> loop3p1 -> loop3"), for the log.
func (l diskLayers) disksUnder(path string) (disks []string, chain string, err error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, "", err
	}
	majMin := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	node, err := filepath.EvalSymlinks(filepath.Join(l.sysfs, "dev/block", majMin))
	if err != nil {
		// Filesystems on an anonymous device number (btrfs, overlayfs
		// over a disk...) name their source device in mountinfo.
		node, err = l.sourceNode(majMin)
		if err != nil {
			return nil, "", err
		}
	}
	var steps []string
	seen := map[string]bool{}
	if err := l.descend(node, seen, &steps, &disks); err != nil {
		return nil, "", err
	}
	slices.Sort(disks)
	return slices.Compact(disks), strings.Join(steps, " -> "), nil
}

// descend walks one sysfs block node down to the whole disks below it.
func (l diskLayers) descend(node string, seen map[string]bool, steps *[]string, disks *[]string) error {
	if seen[node] {
		return nil
	}
	seen[node] = true
	*steps = append(*steps, filepath.Base(node))
	if _, err := os.Stat(filepath.Join(node, "partition")); err == nil {
		// A partition's sysfs node sits inside its disk's.
		return l.descend(filepath.Dir(node), seen, steps, disks)
	}
	slaves, _ := os.ReadDir(filepath.Join(node, "slaves"))
	if len(slaves) == 0 {
		*disks = append(*disks, filepath.Base(node))
		return nil
	}
	for _, s := range slaves {
		below, err := filepath.EvalSymlinks(filepath.Join(node, "slaves", s.Name()))
		if err != nil {
			return err
		}
		if err := l.descend(below, seen, steps, disks); err != nil {
			return err
		}
	}
	return nil
}

// sourceNode finds the sysfs node of the block device a mount with device
// number majMin names as its source in mountinfo.
func (l diskLayers) sourceNode(majMin string) (string, error) {
	f, err := os.Open(l.mountinfo)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent MAJ:MIN root mountpoint options [optional...] - fstype source superopts
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if len(fields) < 3 || fields[2] != majMin || sep < 0 || sep+2 >= len(fields) {
			continue
		}
		var st unix.Stat_t
		source := fields[sep+2]
		if err := unix.Stat(source, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
			continue
		}
		real := fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		return filepath.EvalSymlinks(filepath.Join(l.sysfs, "dev/block", real))
	}
	return "", fmt.Errorf("its filesystem (device %s) is on no block device", majMin)
}
