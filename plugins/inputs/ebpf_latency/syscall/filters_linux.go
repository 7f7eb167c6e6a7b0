package syscall

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"

	syscallbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/syscall"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
)

// Map sizes the config does not set.
const (
	// verdictCache bounds the comms whose glob verdict the kernel remembers.
	verdictCache = 4096
	// minStarts bounds threads inside a timed syscall at once where start
	// times live in a hash: 256 per CPU on larger machines.
	minStarts    = 16384
	startsPerCPU = 256
)

// fillFilters sizes the maps and loads the filters into them before load,
// so the programs never run against an empty filter.
func fillFilters(spec *ebpf.CollectionSpec, cfg *Config, cp *commPatterns) error {
	maps := map[string]*ebpf.MapSpec{}
	for _, name := range []string{
		syscallbpf.SyscallMapSyscallWanted, syscallbpf.SyscallMapSyscallPids,
		syscallbpf.SyscallMapSyscallCommFilter, syscallbpf.SyscallMapSyscallCommSlots,
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

	filter := maps[syscallbpf.SyscallMapSyscallCommFilter]
	filter.Contents = nil
	for _, name := range cp.exact {
		filter.Contents = append(filter.Contents, ebpf.MapKV{Key: exactKey(name), Value: verdictInclude})
	}
	for _, prefix := range cp.prefixes {
		filter.Contents = append(filter.Contents, ebpf.MapKV{Key: prefixKey(prefix), Value: verdictInclude})
	}
	capacity := len(filter.Contents)
	if cp.needVerdicts() {
		capacity += verdictCache
		// Comms running now get their verdict before the first sample.
		for _, comm := range runningComms(verdictCache) {
			if !cp.trieMatches(comm) {
				filter.Contents = append(filter.Contents, ebpf.MapKV{Key: exactKey(comm), Value: cp.verdict(comm)})
			}
		}
	}
	filter.MaxEntries = uint32(max(capacity, 1))

	maps[syscallbpf.SyscallMapSyscallCommSlots].MaxEntries = uint32(cfg.MaxComms)
	_, err := histogram.FitMap(maps[syscallbpf.SyscallMapSyscallHists], uint32((cfg.MaxComms+1)*len(cfg.Syscalls)*cfg.SeriesPerKey()))
	return err
}

// startEntries sizes the start-time hash where task storage is not used.
func startEntries() (uint32, error) {
	cpus, err := ebpf.PossibleCPU()
	return uint32(max(minStarts, startsPerCPU*cpus)), err
}

// exactKey matches comm name and nothing longer: the NUL is part of the prefix.
func exactKey(name string) syscallbpf.SyscallSyscallCommKey {
	n := min(len(name), commLen-1)
	return syscallbpf.SyscallSyscallCommKey{Prefixlen: uint32(n+1) * 8, Comm: commBytes(name)}
}

// prefixKey matches every comm starting with prefix.
func prefixKey(prefix string) syscallbpf.SyscallSyscallCommKey {
	return syscallbpf.SyscallSyscallCommKey{Prefixlen: uint32(len(prefix)) * 8, Comm: commBytes(prefix)}
}

// runningComms lists the distinct comms of the threads alive now, at most limit.
func runningComms(limit int) []string {
	paths, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/comm")
	seen := map[string]bool{}
	var comms []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited meanwhile
		}
		comm := strings.TrimSuffix(string(b), "\n")
		if comm == "" || seen[comm] {
			continue
		}
		seen[comm] = true
		comms = append(comms, comm)
		if len(comms) == limit {
			break
		}
	}
	return comms
}
