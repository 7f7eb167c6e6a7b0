package cgroup

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// requireRoot skips unless root, or fails under EBPF_LATENCY_REQUIRE_PRIVILEGED=1
// (this package cannot import the plugin's internal testenv).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("EBPF_LATENCY_REQUIRE_PRIVILEGED") == "1" {
		t.Fatal("needs root: makes cgroups")
	}
	t.Skip("needs root: makes cgroups")
}

// mkdirs makes each directory under the cgroup2 root that is not there yet
// and removes those it made (deepest first) at test end.
func mkdirs(t *testing.T, root string, rel ...string) {
	t.Helper()
	for _, r := range rel {
		dir := filepath.Join(root, r)
		if _, err := os.Stat(dir); err == nil {
			continue
		}
		require.NoError(t, os.Mkdir(dir, 0o755))
		t.Cleanup(func() { require.NoError(t, unix.Rmdir(dir)) })
	}
}

func inode(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Stat(dir, &st))
	return st.Ino
}

// The resolver walks the real cgroup2 mount: a systemd template unit
// under its slice and a docker scope become their short tags, named from a
// docker data root laid out like docker's own; ids are the directories'
// inodes; a cgroup made later is found by the next scan, and one removed is
// gone from it.
func TestResolverOnTheMount(t *testing.T) {
	requireRoot(t)
	root, err := kernel.Cgroup2Mount()
	require.NoError(t, err)
	unit := fmt.Sprintf("ebpfltest@%d.service", os.Getpid())
	slice := "system.slice/system-ebpfltest.slice"
	id := fmt.Sprintf("%064x", os.Getpid())
	scope := "system.slice/docker-" + id + ".scope"
	mkdirs(t, root, "system.slice", slice, slice+"/"+unit, scope)

	docker := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(docker, "containers", id), 0o755))
	cfg, err := json.Marshal(map[string]any{"ID": id, "Name": "/web"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(docker, "containers", id, "config.v2.json"), cfg, 0o644))

	r, err := newResolver()
	require.NoError(t, err)
	r.names.dockerRoot = docker
	require.NoError(t, r.scan())
	require.Equal(t, root, r.root)
	require.Equal(t, "/", r.paths[inode(t, root)])
	require.Equal(t, unit, r.tags[inode(t, filepath.Join(root, slice, unit))])
	require.Equal(t, "/"+slice+"/"+unit, r.paths[inode(t, filepath.Join(root, slice, unit))])
	require.Equal(t, "docker/web", r.tags[inode(t, filepath.Join(root, scope))])

	later := filepath.Join(root, fmt.Sprintf("ebpfltest-%d", os.Getpid()))
	require.NoError(t, os.Mkdir(later, 0o755))
	t.Cleanup(func() { _ = unix.Rmdir(later) })
	laterID := inode(t, later)
	require.NotContains(t, r.tags, laterID, "not scanned yet")
	require.NoError(t, r.scan())
	require.Equal(t, "/"+filepath.Base(later), r.tags[laterID])
	require.NoError(t, unix.Rmdir(later))
	require.NoError(t, r.scan())
	require.NotContains(t, r.tags, laterID, "removed")
}
