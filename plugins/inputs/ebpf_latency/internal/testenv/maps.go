//go:build linux

package testenv

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
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

// CountTaskStorage counts the threads of process pid other than its main
// thread by whether task-storage map m holds a record for them: the
// kernel's own answer, read through a pidfd of each thread (PIDFD_THREAD,
// Linux 6.9+; a lookup never creates a record).
func CountTaskStorage(t testing.TB, m *ebpf.Map, pid int) (with, without int) {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	require.NoError(t, err)
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		require.NoError(t, err)
		switch {
		case tid == pid:
		case hasTaskStorage(t, m, tid):
			with++
		default:
			without++
		}
	}
	return with, without
}

func hasTaskStorage(t testing.TB, m *ebpf.Map, tid int) bool {
	t.Helper()
	fd, err := unix.PidfdOpen(tid, unix.PIDFD_THREAD)
	require.NoError(t, err, "pidfd of thread %d", tid)
	defer unix.Close(fd)
	value := make([]byte, m.ValueSize())
	err = m.Lookup(int32(fd), &value)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return false
	}
	require.NoError(t, err, "task storage of thread %d", tid)
	return true
}
