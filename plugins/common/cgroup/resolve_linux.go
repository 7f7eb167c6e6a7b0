package cgroup

import (
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
)

// resolver knows the live cgroups of the cgroup2 mount as of its last scan:
// their ids (the inode of each directory, which is the kernfs id
// bpf_get_current_cgroup_id returns), paths and tags.
type resolver struct {
	root  string
	names *runtimeNames
	paths map[uint64]string
	tags  map[uint64]string
}

// newResolver finds the cgroup2 mount (on hybrid hosts the unified one,
// never a v1 controller's) and scans it.
func newResolver() (*resolver, error) {
	root, err := kernel.Cgroup2Mount()
	if err != nil {
		return nil, err
	}
	r := &resolver{root: root, names: defaultNames()}
	return r, r.scan()
}

// scan walks the mount. Tags are unique: where two paths shorten alike (a
// unit name reused under another slice by hand), the later one in walk order
// keeps its full path.
func (r *resolver) scan() error {
	paths, tags, taken := map[uint64]string{}, map[uint64]string{}, map[string]bool{}
	r.names.reset()
	err := filepath.WalkDir(r.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == r.root {
				return err
			}
			return nil // removed while walking
		}
		if !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		rel, _ := filepath.Rel(r.root, p)
		path := filepath.Clean("/" + rel)
		tag := tagOf(path, r.names.name)
		if taken[tag] {
			tag = tagvalue.Escape(path)
		}
		taken[tag] = true
		paths[st.Ino], tags[st.Ino] = path, tag
		return nil
	})
	if err != nil {
		return err
	}
	r.paths, r.tags = paths, tags
	return nil
}
