package disk

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Device names come from sysfs text the kernel writes: they are escaped like
// every kernel name, and a device sysfs does not know is named MAJ:MIN.
func TestDeviceNamesEscaped(t *testing.T) {
	sysfs := t.TempDir()
	for majMin, devname := range map[string]string{"7:0": "loop0", "7:1": `odd\`, "7:2": "tab\tname"} {
		dir := filepath.Join(sysfs, "dev", "block", majMin)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "uevent"), []byte("MAJOR=7\nDEVNAME="+devname+"\nDEVTYPE=disk\n"), 0o644))
	}
	d := newDeviceNames()
	d.sysfs = sysfs
	require.Equal(t, "loop0", d.name(7<<20|0))
	require.Equal(t, `odd\x5c`, d.name(7<<20|1))
	require.Equal(t, `tab\x09name`, d.name(7<<20|2))
	require.Equal(t, "7:3", d.name(7<<20|3))
}
