package disk

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// The Go mirrors must match the C layout bpf2go read from the object.
func TestMirrorsMatchTheObject(t *testing.T) {
	var v diskbpf.DiskDiskHists
	compiled := valueShape(histogram.Log2x4) // the object holds the finer scheme's slots until SetScheme
	require.Equal(t, 8*compiled.Words(), binary.Size(v))
	require.Equal(t, 8*leadCompletions, int(unsafe.Offsetof(v.Completions)))
	require.Equal(t, 8*compiled.HeadWord(0, histogram.HeadSumNs), int(unsafe.Offsetof(v.Stage)))
	require.Equal(t, 8*compiled.SlotWord(0, 0), int(unsafe.Offsetof(v.Slots)))
	require.Len(t, stageNames, stages)
	require.Equal(t, "sync+fua+preflush", flagsName(flagSync|flagFUA|flagPreflush))
	require.Equal(t, "none", flagsName(0))
	require.Equal(t, "other", opName(200))
}
