package runq

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	runqbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/runq"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/commglob"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// preState514 is this kernel's BTF as a pre-5.14 kernel would show it:
// task_struct::__state back to `long state` (at the same offset; the next
// field, saved_state, reads as zero for a running task). Without keepState
// neither name exists.
func preState514(t *testing.T, keepState bool) *btf.Spec {
	t.Helper()
	kernelSpec, err := btf.LoadKernelSpec()
	require.NoError(t, err)
	fake := kernelSpec.Copy() // never edit the shared, cached kernel spec
	var task *btf.Struct
	require.NoError(t, fake.TypeByName("task_struct", &task))
	var long *btf.Int
	require.NoError(t, fake.TypeByName("long int", &long))
	for i := range task.Members {
		if task.Members[i].Name == "__state" {
			task.Members[i].Name, task.Members[i].Type = "state", long
			if !keepState {
				task.Members[i].Name = "no_state_at_all"
			}
			return fake
		}
	}
	t.Fatal("kernel task_struct has no __state")
	return nil
}

// loadRawTP loads the raw_tp flavour relocated against kernelTypes and
// attaches it by hand (hooks.Attach always relocates against the kernel).
func loadRawTP(t *testing.T, cfg *Config, kernelTypes *btf.Spec) (*runqProbe, error) {
	t.Helper()
	spec, err := runqbpf.LoadRunq()
	require.NoError(t, err)
	raw := flavours[len(flavours)-1]
	require.Equal(t, hooks.RawTP, raw.Kind)
	keep := map[string]bool{}
	for _, h := range raw.Hooks {
		keep[h.Program] = true
	}
	for name := range spec.Programs {
		if !keep[name] {
			delete(spec.Programs, name)
		}
	}
	p := newProbe(cfg, testutil.Logger{}).(*runqProbe)
	comms, err := commglob.Compile(cfg.Comms)
	require.NoError(t, err)
	require.NoError(t, histogram.SetScheme(spec, histogram.Log2))
	require.NoError(t, p.prepare(spec, hooks.RawTP, comms, histogram.BudgetCuts{}))
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: kernelTypes},
	})
	if err != nil {
		return nil, err
	}
	att := &hooks.Attached{Kind: hooks.RawTP, Collection: coll}
	t.Cleanup(func() { require.NoError(t, p.Stop()) })
	p.att = att
	for _, h := range raw.Hooks {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.Event, Program: coll.Programs[h.Program]})
		require.NoError(t, err)
		att.Keep(l)
	}
	p.reader, err = histogram.NewReader(coll, runqbpf.RunqMapRunqHists, histogram.One(histogram.Log2))
	require.NoError(t, err)
	p.emitter = histogram.NewEmitter(histogram.Options{})
	return p, nil
}

// The pre-5.14 branch of task_state() relocates, verifies and measures.
func TestTaskStateBefore514(t *testing.T) {
	testenv.RequirePrivileged(t)
	cfg := DefaultConfig()
	cfg.Comms = []string{sleeperName}

	// Relocations really follow the given types: with neither name the
	// accessor cannot resolve, and the verifier refuses the program.
	_, err := loadRawTP(t, cfg, preState514(t, false))
	require.ErrorContains(t, err, "bad CO-RE relocation", "a task_struct with no state field must not load")

	p, err := loadRawTP(t, cfg, preState514(t, true))
	require.NoError(t, err)
	const rounds = 100
	cpu := testCPU(t)
	startHog(t, cpu)
	switches := runHelper(t, "sleep", cpu, rounds, "1000", sleeperName)
	s, ok := findSeries(gather(t, p), map[string]string{TagComm: sleeperName})
	require.True(t, ok)
	requireBetween(t, p, s, rounds, switches)
}

// preKernfsID55 is this kernel's BTF as a pre-5.5 kernel would show it:
// kernfs_node::id a union kernfs_node_id whose `id` member is the same
// 64 bits. Rebuilt, so the new union is a named type CO-RE can find.
func preKernfsID55(t *testing.T) *btf.Spec {
	t.Helper()
	kernelSpec, err := btf.LoadKernelSpec()
	require.NoError(t, err)
	fake := kernelSpec.Copy()
	var kn *btf.Struct
	require.NoError(t, fake.TypeByName("kernfs_node", &kn))
	var union *btf.Union
	for i := range kn.Members {
		if kn.Members[i].Name == "id" {
			union = &btf.Union{Name: "kernfs_node_id", Size: 8, Members: []btf.Member{{Name: "id", Type: kn.Members[i].Type}}}
			kn.Members[i].Type = union
		}
	}
	require.NotNil(t, union, "kernel kernfs_node has no id")
	b, err := btf.NewBuilder(nil, nil)
	require.NoError(t, err)
	for typ, err := range fake.All() {
		require.NoError(t, err)
		_, err = b.Add(typ)
		require.NoError(t, err)
	}
	raw, err := b.Marshal(nil, nil)
	require.NoError(t, err)
	rebuilt, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	require.NoError(t, err)
	return rebuilt
}

// The pre-5.5 branch of task_cgroup_id() relocates, verifies and reads the
// same id: the server's samples land under its cgroup.
func TestCgroupIDBefore55(t *testing.T) {
	testenv.RequirePrivileged(t)
	cpu := testCPU(t)
	comm := uniqueComm("ebpfl-k55")
	cg := testenv.NewCgroup(t)
	srv := startServerIn(t, comm, cpu, 1000, cg)
	cfg := DefaultConfig()
	cfg.Comms, cfg.ByCgroup = []string{comm}, true
	p, err := loadRawTP(t, cfg, preKernfsID55(t))
	require.NoError(t, err)
	p.cgroups, err = cfg.NewTagger(p.att.Collection)
	require.NoError(t, err)

	before, u0 := srv.switchIns(t), untimed(p)
	srv.sleep(t, 20)
	switchIns := srv.switchIns(t) - before
	s, ok := findSeries(gather(t, p), map[string]string{TagComm: comm, TagCgroup: cg.Path})
	require.True(t, ok, "no series under cgroup %s", cg.Path)
	requireSwitchIns(t, p, s, switchIns, untimed(p)-u0)
}
