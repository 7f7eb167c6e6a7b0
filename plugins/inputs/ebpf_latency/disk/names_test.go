package disk

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
)

// The Go mirrors must match the C layout bpf2go read from the object.
func TestMirrorsMatchTheObject(t *testing.T) {
	require.Equal(t, binary.Size(diskbpf.DiskDiskHists{}), binary.Size(stagedValue{}))
	require.Len(t, stageNames, stages)
	require.Equal(t, "sync+fua+preflush", flagsName(flagSync|flagFUA|flagPreflush))
	require.Equal(t, "none", flagsName(0))
	require.Equal(t, "other", opName(200))
}
