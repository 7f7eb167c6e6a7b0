package syscall

import (
	"fmt"
	"runtime"
	"sort"
)

// The tables come from the kernel headers of the machine that generates
// them (Debian: linux-libc-dev); regenerate after a headers upgrade to learn
// newer syscalls.
//go:generate go run gentable.go -arch amd64 -out table_amd64.go
//go:generate go run gentable.go -arch arm64 -out table_arm64.go

// slots is SYSCALL_SLOTS in bpf/syscall/syscall.h: the size of the kernel's
// syscall-number filter.
const slots = 1024

// lookupSyscall returns the number of a syscall on this GOARCH, or an error
// naming the nearest known name.
func lookupSyscall(name string) (uint32, error) {
	if nr, ok := syscallNumbers[name]; ok {
		return nr, nil
	}
	if len(syscallNumbers) == 0 {
		return 0, fmt.Errorf("unknown syscall %q (no syscall table for %s)", name, runtime.GOARCH)
	}
	if near := nearestName(name); near != "" {
		return 0, fmt.Errorf("unknown syscall %q (did you mean %q?)", name, near)
	}
	return 0, fmt.Errorf("unknown syscall %q", name)
}

// nearestName is the known syscall closest to name by edit distance, or ""
// when none is close enough to be a likely typo.
func nearestName(name string) string {
	names := make([]string, 0, len(syscallNumbers))
	for n := range syscallNumbers {
		names = append(names, n)
	}
	sort.Strings(names) // ties go to the alphabetically first
	best, bestDist := "", max(2, len(name)/3)+1
	for _, n := range names {
		if d := editDistance(name, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
