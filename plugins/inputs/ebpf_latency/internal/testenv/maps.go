//go:build linux

package testenv

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cilium/ebpf"
)

// ProcessMap opens the BPF map named name among those process pid holds
// (its fds' fdinfo), waiting up to wait for the process to create it.
func ProcessMap(pid int, name string, wait time.Duration) (*ebpf.Map, error) {
	deadline := time.Now().Add(wait)
	for {
		for _, id := range mapIDsOf(pid) {
			m, err := ebpf.NewMapFromID(id)
			if err != nil {
				continue // closed meanwhile
			}
			if info, err := m.Info(); err == nil && info.Name == name {
				return m, nil
			}
			m.Close()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("process %d holds no map %s after %v", pid, name, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mapIDsOf lists the IDs of the BPF maps process pid has open.
func mapIDsOf(pid int) []ebpf.MapID {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	entries, _ := os.ReadDir(dir)
	var ids []ebpf.MapID
	for _, e := range entries {
		data, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			var id uint32
			if _, err := fmt.Sscanf(line, "map_id:\t%d", &id); err == nil {
				ids = append(ids, ebpf.MapID(id))
			}
		}
	}
	return ids
}
