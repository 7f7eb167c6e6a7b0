package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A directory on ext4 on a partition of a loop disk (and, where the kernel
// has device-mapper, on a linear target over that partition): the path in
// devices resolves through the layers to the loop disk, and the O_DIRECT
// reads of a file there are counted exactly, on that disk alone.
func TestDevicesPathResolvesToTheDisk(t *testing.T) {
	testenv.RequirePrivileged(t)
	stacks := []string{"partition"}
	if testenv.HaveDeviceMapper() {
		stacks = append(stacks, "device-mapper")
	} else {
		t.Log("no device-mapper in this kernel: the dm layer is covered by TestDisksUnderStackedLayers only")
	}
	for _, layers := range stacks {
		t.Run(layers, func(t *testing.T) {
			img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
			require.NoError(t, os.WriteFile(img, nil, 0o600))
			require.NoError(t, os.Truncate(img, 64<<20))
			disk, fsDevice := testenv.NewPartitionedLoop(t, img)
			wantChain := filepath.Base(fsDevice) + " -> " + disk.Name
			if layers == "device-mapper" {
				fsDevice = testenv.NewLinearDM(t, fsDevice)
				wantChain = filepath.Base(fsDevice) + " -> " + wantChain
			}
			requireReadsCountedUnder(t, testenv.MountExt4(t, fsDevice), disk.Name, wantChain)
		})
	}
}

func requireReadsCountedUnder(t *testing.T, mount, diskName, wantChain string) {
	const reads = 30
	dir := filepath.Join(mount, "wal")
	require.NoError(t, os.Mkdir(dir, 0o755))
	file := filepath.Join(dir, "data")
	require.NoError(t, os.WriteFile(file, make([]byte, reads*testenv.BlockSize), 0o600))
	testenv.Fdatasync(t, file)

	disks, chain, err := newDiskLayers().disksUnder(dir)
	require.NoError(t, err)
	require.Equal(t, []string{diskName}, disks)
	require.Equal(t, wantChain, chain)

	cfg := DefaultConfig()
	cfg.Devices = []string{dir}
	log := &testutil.CaptureLogger{}
	p := newProbe(cfg, log).(*diskProbe)
	start(t, p)
	require.Equal(t, map[string]bool{diskName: true}, p.pathDisks)
	// The start log says what the path resolved to.
	said := fmt.Sprintf("disk: devices path %q is on %s: measuring disk(s) %s", dir, wantChain, diskName)
	require.True(t, slices.ContainsFunc(log.Messages(), func(e testutil.Entry) bool { return e.Text == said }),
		"want log %q in %v", said, log.Messages())

	testenv.IssueDirect(t, file, false, reads, 0)
	acc := gather(t, p)
	s, ok := findSeries(acc, map[string]string{"device": diskName, "op": "read", "stage": StageService})
	require.True(t, ok, "no read series on %s", diskName)
	requireConsistent(t, s, reads)
	for _, m := range acc.GetTelegrafMetrics() {
		require.Equal(t, diskName, m.Tags()["device"], "only the disk under the path is emitted")
	}
}

// A path on no block device (tmpfs) cannot be resolved: Start says so,
// naming the key and the path.
func TestDevicesPathOnNoDisk(t *testing.T) {
	testenv.RequirePrivileged(t)
	dir := testenv.TmpfsDir(t)
	cfg := DefaultConfig()
	cfg.Devices = []string{dir}
	require.NoError(t, cfg.Validate())
	err := newProbe(cfg, testutil.Logger{}).Start()
	require.ErrorContains(t, err, `devices: path "`+dir+`": `)
	require.ErrorContains(t, err, "on no block device")
}

// The walk through slaves/ of stacked devices, on a sysfs-shaped tree: this
// kernel has neither md nor device-mapper, so the layers are drawn, as
// sysfs lays them out, around an md RAID 1 over a partition of two disks
// and a dm volume over that.
func TestDisksUnderStackedLayers(t *testing.T) {
	root := t.TempDir()
	blk := filepath.Join(root, "devices/virtual/block")
	for _, dir := range []string{"sda/sda1", "sdb/sdb1", "md0/slaves", "dm-0/slaves"} {
		require.NoError(t, os.MkdirAll(filepath.Join(blk, dir), 0o755))
	}
	for _, part := range []string{"sda/sda1", "sdb/sdb1"} {
		require.NoError(t, os.WriteFile(filepath.Join(blk, part, "partition"), []byte("1\n"), 0o644))
		require.NoError(t, os.Symlink(filepath.Join("../..", part), filepath.Join(blk, "md0/slaves", filepath.Base(part))))
	}
	require.NoError(t, os.Symlink("../../md0", filepath.Join(blk, "dm-0/slaves/md0")))

	var steps, disks []string
	require.NoError(t, diskLayers{sysfs: root}.descend(filepath.Join(blk, "dm-0"), map[string]bool{}, &steps, &disks))
	require.Equal(t, []string{"sda", "sdb"}, disks)
	require.Equal(t, []string{"dm-0", "md0", "sda1", "sda", "sdb1", "sdb"}, steps)
}
