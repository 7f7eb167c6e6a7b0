package syscall

import (
	"fmt"

	"github.com/cilium/ebpf"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/commglob"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
)

// Map sizes the config does not set.
const (
	// minStarts bounds threads inside a timed syscall at once where start
	// times live in a hash: 256 per CPU on larger machines.
	minStarts    = 16384
	startsPerCPU = 256
)

// fillFilters sets the filter knobs and sizes and fills the maps (the comm
// filter's among them) before load, so the programs never run against an
// empty filter. cuts notes the histogram map if the memory budget cuts it.
func fillFilters(spec *ebpf.CollectionSpec, cfg *Config, comms *commglob.Filter, cuts histogram.BudgetCuts) error {
	if err := hooks.SetKnobs(spec, map[string]any{
		syscallbpf.SyscallVarFilterPids:  len(cfg.Pids) > 0,
		syscallbpf.SyscallVarFilterComms: len(cfg.Comms) > 0,
	}); err != nil {
		return err
	}
	if err := comms.Prepare(spec); err != nil {
		return err
	}
	maps := map[string]*ebpf.MapSpec{}
	for _, name := range []string{
		syscallbpf.SyscallMapSyscallWanted, syscallbpf.SyscallMapSyscallPids,
		syscallbpf.SyscallMapSyscallCommSlots,
		syscallbpf.SyscallMapSyscallHists,
	} {
		if maps[name] = spec.Maps[name]; maps[name] == nil {
			return fmt.Errorf("object lacks map %s", name)
		}
	}

	wanted := maps[syscallbpf.SyscallMapSyscallWanted]
	wanted.Contents = nil
	for nr := range cfg.numbers() {
		wanted.Contents = append(wanted.Contents, ebpf.MapKV{Key: nr, Value: uint8(1)})
	}

	pids := maps[syscallbpf.SyscallMapSyscallPids]
	pids.MaxEntries = uint32(max(len(cfg.Pids), 1))
	pids.Contents = nil
	for _, pid := range cfg.Pids {
		pids.Contents = append(pids.Contents, ebpf.MapKV{Key: uint32(pid), Value: uint8(1)})
	}

	maps[syscallbpf.SyscallMapSyscallCommSlots].MaxEntries = uint32(cfg.MaxComms)
	_, err := cuts.Fit(spec, syscallbpf.SyscallMapSyscallHists, uint32((cfg.MaxComms+1)*len(cfg.Syscalls)*cfg.SeriesPerKey()))
	return err
}

// startEntries sizes the start-time hash where task storage is not used.
func startEntries() (uint32, error) {
	cpus, err := ebpf.PossibleCPU()
	return uint32(max(minStarts, startsPerCPU*cpus)), err
}
