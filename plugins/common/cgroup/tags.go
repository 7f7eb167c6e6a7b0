package cgroup

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
)

// FoldedID mirrors CGROUP_FOLDED_ID: the key of the series max_cgroups
// folds the rest into, tagged Folded.
const FoldedID = ^uint64(0)

// Folded is the tag of the folded series (no escaped path equals it).
const Folded = tagvalue.Folded

// TagName is the tag every probe writes the cgroup under.
const TagName = "cgroup"

// unresolvedTag marks an id without a path: the cgroup was removed before
// the plugin read it, or replaced since (a restarted service gets a new
// cgroup at the same path). Escape writes a backslash only as `\xNN`, so no
// path's tag reads like it.
func unresolvedTag(id uint64) string { return `\id:` + strconv.FormatUint(id, 10) }

// namer finds a container's name in its runtime's metadata: "" when it is
// not readable.
type namer func(runtime, id string) string

// containerDir matches a cgroup directory that holds one container: the
// systemd scopes of docker, containerd (cri), cri-o and podman, and
// podman's cgroupfs directories.
var containerDir = regexp.MustCompile(`^(docker|cri-containerd|crio|libpod)-([0-9a-f]{64})(\.scope)?$`)

var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// runtimeOf names the runtime of a containerDir prefix as users know it.
var runtimeOf = map[string]string{
	"docker": "docker", "cri-containerd": "containerd", "crio": "crio", "libpod": "podman",
}

// unitSuffixes are the systemd unit types that get a cgroup of their own
// (slices aside: they only group).
var unitSuffixes = []string{".service", ".scope", ".socket", ".mount", ".swap"}

// shorten is the tag of the cgroup at path (relative to the cgroup2 root,
// starting with "/"), before escaping:
//   - a container (the first directory on the path that holds one):
//     `<runtime>/<name>` when the runtime's metadata names it, else
//     `<runtime>/<first 12 hex digits of its id>`; then whatever sub-cgroups
//     follow, e.g. `docker/web/init.scope`;
//   - a systemd unit of the system manager (under /system.slice, through any
//     number of slices): its unit name, e.g. `postgresql@15-main.service`,
//     then whatever sub-cgroups follow;
//   - anything else: the path itself, e.g. `/user.slice/user-1000.slice/session-2.scope`.
func shorten(path string, name namer) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		runtime, id := "", ""
		if m := containerDir.FindStringSubmatch(p); m != nil {
			runtime, id = runtimeOf[m[1]], m[2]
		} else if hexID.MatchString(p) && i > 0 {
			// cgroupfs drivers: /docker/<id>, /kubepods/<qos>/pod<uid>/<id>.
			switch {
			case parts[0] == "docker":
				runtime, id = "docker", p
			case parts[0] == "kubepods" || parts[0] == "kubepods.slice":
				runtime, id = "kubepods", p
			}
		}
		if runtime == "" {
			continue
		}
		label := runtime + "/" + id[:12]
		if n := name(runtime, id); n != "" {
			label = runtime + "/" + n
		}
		return strings.Join(append([]string{label}, parts[i+1:]...), "/")
	}
	if len(parts) > 1 && parts[0] == "system.slice" {
		i := 1
		for i < len(parts)-1 && strings.HasSuffix(parts[i], ".slice") {
			i++
		}
		for _, suffix := range unitSuffixes {
			if strings.HasSuffix(parts[i], suffix) && len(parts[i]) > len(suffix) {
				return strings.Join(parts[i:], "/")
			}
		}
	}
	return path
}

// tagOf is the escaped tag of path: a valid, readable tag value.
func tagOf(path string, name namer) string { return tagvalue.Escape(shorten(path, name)) }
