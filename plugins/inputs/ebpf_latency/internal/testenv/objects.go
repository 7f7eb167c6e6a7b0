//go:build linux

package testenv

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
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

// MapReferences loads the object load reads, after prepare sets its knobs,
// and counts, per program, the references to map mapName the verifier kept
// in the translated instructions (which name maps by ID): code a knob
// turned off leaves none.
func MapReferences(t testing.TB, load func() (*ebpf.CollectionSpec, error), prepare func(*ebpf.CollectionSpec) error, mapName string) map[string]int {
	t.Helper()
	spec, err := load()
	require.NoError(t, err)
	require.NoError(t, prepare(spec))
	coll, err := ebpf.NewCollection(spec)
	require.NoError(t, err)
	defer coll.Close()
	m := coll.Maps[mapName]
	require.NotNil(t, m, "no map %s", mapName)
	mi, err := m.Info()
	require.NoError(t, err)
	mapID, ok := mi.ID()
	require.True(t, ok)
	refs := map[string]int{}
	for name, prog := range coll.Programs {
		info, err := prog.Info()
		require.NoError(t, err)
		insns, err := info.Instructions()
		require.NoError(t, err)
		refs[name] = 0
		for _, ins := range insns {
			if ins.IsLoadFromMap() && ins.Src == asm.PseudoMapFD && uint32(ins.Constant) == uint32(mapID) {
				refs[name]++
			}
		}
	}
	return refs
}
