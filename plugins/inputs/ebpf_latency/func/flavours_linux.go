package funcprobe

import (
	"fmt"

	"github.com/cilium/ebpf"

	funcbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/func"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
)

// slots is FUNC_SLOTS in bpf/func/func.h: functions the no-cookie fallback serves.
const slots = 16

// programPair names the entry and return programs that serve function i.
type programPair func(i int) (entry, ret string, cookie bool)

// withMulti is withCookies through uprobe_multi links (Linux 6.6+): the
// only uprobe attach that CAP_BPF and CAP_PERFMON allow on kernels that
// want CAP_SYS_ADMIN for perf_event_open uprobes (6.16+ and backports).
// Older kernels refuse the program's attach type at load.
var withMulti = hooks.Flavour{Kind: hooks.UprobeMulti, Hooks: withCookies.Hooks}

// withCookies serves every function with one pair, told apart by the attach
// cookie (bpf_get_attach_cookie, Linux 5.15+). Older verifiers refuse the
// helper, so the load fails and the walk moves on.
var withCookies = hooks.Flavour{Kind: hooks.Uprobe, Hooks: []hooks.Hook{
	{Program: funcbpf.FuncProgFuncEntry},
	{Program: funcbpf.FuncProgFuncReturn},
}}

// withSlots gives each of the first `slots` functions a pair of its own.
var withSlots = hooks.Flavour{Kind: hooks.Uprobe, Hooks: slotHooks()}

func slotHooks() []hooks.Hook {
	var hs []hooks.Hook
	for i := 0; i < slots; i++ {
		entry, ret := slotPrograms(i)
		hs = append(hs, hooks.Hook{Program: entry}, hooks.Hook{Program: ret})
	}
	return hs
}

func slotPrograms(i int) (entry, ret string) {
	return fmt.Sprintf("func_entry_%d", i), fmt.Sprintf("func_return_%d", i)
}

// flavours is the chain, best first.
var flavours = []hooks.Flavour{withMulti, withCookies, withSlots}

// prepare gives the programs the uprobe_multi attach type for withMulti.
func prepare(spec *ebpf.CollectionSpec, kind hooks.Kind) error {
	if kind != hooks.UprobeMulti {
		return nil
	}
	for _, p := range spec.Programs {
		p.AttachType = ebpf.AttachTraceUprobeMulti
	}
	return nil
}

// unusedSlots skips the slot pairs no configured function needs.
func unusedSlots(functions int) map[string]bool {
	skip := map[string]bool{}
	for i := functions; i < slots; i++ {
		entry, ret := slotPrograms(i)
		skip[entry], skip[ret] = true, true
	}
	return skip
}

// pairFor says which programs the loaded collection serves function i with.
func pairFor(att *hooks.Attached) programPair {
	if att.Collection.Programs[funcbpf.FuncProgFuncEntry] != nil {
		return func(int) (string, string, bool) {
			return funcbpf.FuncProgFuncEntry, funcbpf.FuncProgFuncReturn, true
		}
	}
	return func(i int) (string, string, bool) {
		entry, ret := slotPrograms(i)
		return entry, ret, false
	}
}
