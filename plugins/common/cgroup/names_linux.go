package cgroup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// runtimeNames reads container names where a runtime keeps them in files
// root can read: docker's config.v2.json per container, podman's
// containers.json. Nothing else is asked (no daemon, no Kubernetes API);
// containerd and cri-o keep their names in databases, so their containers
// keep their ids.
type runtimeNames struct {
	dockerRoot string // docker's data root
	podmanRoot string // containers/storage's overlay-containers directory
	podman     map[string]string
}

func defaultNames() *runtimeNames {
	return &runtimeNames{
		dockerRoot: "/var/lib/docker",
		podmanRoot: "/var/lib/containers/storage/overlay-containers",
	}
}

// name is a namer; the podman list is read once per scan (see reset).
func (n *runtimeNames) name(runtime, id string) string {
	var name string
	switch runtime {
	case "docker":
		var cfg struct{ Name string }
		if b, err := os.ReadFile(filepath.Join(n.dockerRoot, "containers", id, "config.v2.json")); err == nil &&
			json.Unmarshal(b, &cfg) == nil {
			name = strings.TrimPrefix(cfg.Name, "/")
		}
	case "podman":
		if n.podman == nil {
			n.podman = readPodmanNames(filepath.Join(n.podmanRoot, "containers.json"))
		}
		name = n.podman[id]
	}
	// A name is one path component, or the tag would read as a deeper cgroup.
	if strings.Contains(name, "/") {
		return ""
	}
	return name
}

// reset forgets what was read, so the next scan sees new containers.
func (n *runtimeNames) reset() { n.podman = nil }

func readPodmanNames(file string) map[string]string {
	names := map[string]string{}
	b, err := os.ReadFile(file)
	if err != nil {
		return names
	}
	var list []struct {
		ID    string   `json:"id"`
		Names []string `json:"names"`
	}
	if json.Unmarshal(b, &list) != nil {
		return names
	}
	for _, c := range list {
		if len(c.Names) > 0 {
			names[c.ID] = c.Names[0]
		}
	}
	return names
}
