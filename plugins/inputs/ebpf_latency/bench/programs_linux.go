package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
)

// OwnedProgramIDs lists the programs a process holds open (program and link
// fds both name one in fdinfo). Diffing the system-wide ID list alone would
// also catch programs other test processes load meanwhile.
func OwnedProgramIDs(pid string) (map[ebpf.ProgramID]bool, error) {
	dir := filepath.Join("/proc", pid, "fdinfo")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ids := map[ebpf.ProgramID]bool{}
	for _, e := range entries {
		if id, ok := progIDOf(filepath.Join(dir, e.Name())); ok {
			ids[id] = true
		}
	}
	return ids, nil
}

func progIDOf(fdinfo string) (ebpf.ProgramID, bool) {
	f, err := os.Open(fdinfo)
	if err != nil {
		return 0, false // the fd closed meanwhile
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "prog_id:"); ok {
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			return ebpf.ProgramID(id), err == nil
		}
	}
	return 0, false
}

// openNew opens the programs in after but not in before whose kernel name
// (truncated to 15 characters) starts with prefix.
func openNew(before, after map[ebpf.ProgramID]bool, prefix string) ([]*ebpf.Program, error) {
	var progs []*ebpf.Program
	for id := range after {
		if before[id] {
			continue
		}
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			closeAll(progs)
			return nil, fmt.Errorf("opening program %d: %w", id, err)
		}
		info, err := p.Info()
		if err != nil || !strings.HasPrefix(info.Name, prefix) {
			p.Close()
			continue
		}
		progs = append(progs, p)
	}
	return progs, nil
}

func closeAll(progs []*ebpf.Program) {
	for _, p := range progs {
		p.Close()
	}
}

// progName is the program's kernel name, "" if unknown.
func progName(p *ebpf.Program) string {
	info, err := p.Info()
	if err != nil {
		return ""
	}
	return info.Name
}

// readCounts sums run time and run count; stats must be enabled.
func readCounts(progs []*ebpf.Program) (Counts, error) {
	var c Counts
	for _, p := range progs {
		st, err := p.Stats()
		if err != nil {
			return Counts{}, fmt.Errorf("reading stats of %s: %w", progName(p), err)
		}
		c.RunTimeNs += uint64(st.Runtime.Nanoseconds())
		c.RunCount += st.RunCount
		c.Misses += st.RecursionMisses
	}
	return c, nil
}
