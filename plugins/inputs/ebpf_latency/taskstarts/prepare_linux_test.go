package taskstarts

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"

	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// On a kernel without task storage (stood in for here) auto falls back to
// the hash and says why, the storage map becomes a one-entry hash the
// kernel can create, and the objects still load: the programs that would
// use it are pruned. Pinning task_storage there is refused, naming the key.
func TestWithoutTaskStorageTheObjectsStillLoad(t *testing.T) {
	testenv.RequirePrivileged(t)
	real := haveTaskStorage
	haveTaskStorage = func() error { return errors.New("no such map type") }
	t.Cleanup(func() { haveTaskStorage = real })
	for name, load := range map[string]func() (*ebpf.CollectionSpec, error){
		"runq":    runqbpf.LoadRunq,
		"func":    funcbpf.LoadFunc,
		"syscall": syscallbpf.LoadSyscall,
	} {
		t.Run(name, func(t *testing.T) {
			spec, err := load()
			require.NoError(t, err)
			auto := DefaultSetting()
			store, err := auto.Prepare(spec, true, 0)
			require.NoError(t, err)
			require.False(t, store.Local)
			require.Contains(t, store.String(), "no task storage")
			require.Equal(t, ebpf.Hash, spec.Maps[mapStorage].Type)
			require.Equal(t, uint32(DefaultHashEntries), spec.Maps[mapHash].MaxEntries)
			coll, err := ebpf.NewCollection(spec)
			require.NoError(t, err)
			coll.Close()

			pinned := Setting{StartTimes: TaskStorage}
			_, err = pinned.Prepare(spec, true, 0)
			require.ErrorContains(t, err, `start_times: "task_storage" unavailable: this kernel has no task storage`)
		})
	}
}
