//go:build linux

package testenv

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"
)

// Objects are the kernel IDs of a loaded collection's programs and maps.
type Objects struct {
	Programs []ebpf.ProgramID
	Maps     []ebpf.MapID
}

// ObjectsOf lists the IDs of coll's programs and maps.
func ObjectsOf(t testing.TB, coll *ebpf.Collection) Objects {
	t.Helper()
	var objs Objects
	for _, prog := range coll.Programs {
		info, err := prog.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		objs.Programs = append(objs.Programs, id)
	}
	for _, m := range coll.Maps {
		info, err := m.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		objs.Maps = append(objs.Maps, id)
	}
	return objs
}

// RequireFreed waits until the kernel has freed every object: links drop
// their program after an RCU grace period, and the eBPF library unmaps a
// map's memory view (.rodata) from a GC cleanup.
func RequireFreed(t testing.TB, objs Objects) {
	t.Helper()
	for _, id := range objs.Programs {
		require.Eventually(t, func() bool {
			prog, err := ebpf.NewProgramFromID(id)
			if err == nil {
				prog.Close() // our own reference would keep it alive
			}
			return errors.Is(err, os.ErrNotExist)
		}, 5*time.Second, 10*time.Millisecond, "program %d still loaded", id)
	}
	for _, id := range objs.Maps {
		require.Eventually(t, func() bool {
			runtime.GC()
			m, err := ebpf.NewMapFromID(id)
			if err == nil {
				m.Close()
			}
			return errors.Is(err, os.ErrNotExist)
		}, 5*time.Second, 10*time.Millisecond, "map %d still exists", id)
	}
}
