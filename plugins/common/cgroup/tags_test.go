package cgroup

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	dockerID = "3f1c0a9b7e2d4c6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"
	otherID  = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
)

// Path shapes as systemd, docker, containerd, cri-o, podman and kubelet
// create them on cgroup v2.
func TestShorten(t *testing.T) {
	names := func(runtime, id string) string {
		if runtime == "docker" && id == otherID {
			return "web"
		}
		return ""
	}
	for path, want := range map[string]string{
		"/":                          "/",
		"/init.scope":                "/init.scope",
		"/system.slice":              "/system.slice",
		"/system.slice/cron.service": "cron.service",
		"/system.slice/system-postgresql.slice/postgresql@15-main.service":    "postgresql@15-main.service",
		"/system.slice/system-postgresql.slice":                               "/system.slice/system-postgresql.slice",
		"/system.slice/ssh.socket":                                            "ssh.socket",
		"/system.slice/boot-efi.mount":                                        "boot-efi.mount",
		"/system.slice/app.service/worker":                                    "app.service/worker",
		"/system.slice/.service":                                              "/system.slice/.service",
		"/user.slice/user-1000.slice/session-2.scope":                         "/user.slice/user-1000.slice/session-2.scope",
		"/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service": "/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
		// docker, systemd driver, named and not.
		"/system.slice/docker-" + dockerID + ".scope":           "docker/3f1c0a9b7e2d",
		"/system.slice/docker-" + otherID + ".scope":            "docker/web",
		"/system.slice/docker-" + otherID + ".scope/init.scope": "docker/web/init.scope",
		"/system.slice/docker.service":                          "docker.service",
		// docker, cgroupfs driver.
		"/docker/" + dockerID: "docker/3f1c0a9b7e2d",
		"/docker":             "/docker",
		// kubelet with containerd and with cri-o, systemd driver.
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c9e2a1f_4b3d_4e5f_8a7b_6c5d4e3f2a1b.slice/cri-containerd-" + dockerID + ".scope": "containerd/3f1c0a9b7e2d",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c9e2a1f_4b3d_4e5f_8a7b_6c5d4e3f2a1b.slice/crio-" + dockerID + ".scope":         "crio/3f1c0a9b7e2d",
		"/kubepods.slice/kubepods-burstable.slice": "/kubepods.slice/kubepods-burstable.slice",
		// kubelet, cgroupfs driver.
		"/kubepods/burstable/pod0c9e2a1f-4b3d-4e5f-8a7b-6c5d4e3f2a1b/" + dockerID: "kubepods/3f1c0a9b7e2d",
		// podman: rootful (systemd), rootless, cgroupfs; its conmon stays a path.
		"/machine.slice/libpod-" + dockerID + ".scope":                                           "podman/3f1c0a9b7e2d",
		"/machine.slice/libpod-" + dockerID + ".scope/container":                                 "podman/3f1c0a9b7e2d/container",
		"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + dockerID + ".scope": "podman/3f1c0a9b7e2d",
		"/libpod_parent/libpod-" + dockerID:                                                      "podman/3f1c0a9b7e2d",
		"/machine.slice/libpod-conmon-" + dockerID + ".scope":                                    "/machine.slice/libpod-conmon-" + dockerID + ".scope",
		// Not a container id: too short, or not hex.
		"/system.slice/docker-3f1c0a9b7e2d.scope": "docker-3f1c0a9b7e2d.scope", // a unit, not a container
		"/docker/" + dockerID[:63] + "g":          "/docker/" + dockerID[:63] + "g",
	} {
		require.Equal(t, want, shorten(path, names), path)
	}
}

// Tags are escaped like every kernel string: a directory name with a
// newline or invalid UTF-8 stays one readable, unique tag value.
func TestTagOfEscapes(t *testing.T) {
	none := func(string, string) string { return "" }
	require.Equal(t, `/a\x0ab`, tagOf("/a\nb", none))
	require.Equal(t, `/\xff`, tagOf("/\xff", none))
	require.Equal(t, `x\x5cy.service`, tagOf(`/system.slice/x\y.service`, none))
	require.NotEqual(t, Folded, tagOf("/other", none))
	require.Equal(t, `\id:42`, unresolvedTag(42))
}

func TestValidateNamesKeyAndValue(t *testing.T) {
	for _, tt := range []struct {
		edit func(*Attribution)
		want string
	}{
		{func(c *Attribution) { c.MaxCgroups = -1 }, `max_cgroups: -1 out of range (want 1 to 4096)`},
		{func(c *Attribution) { c.MaxCgroups = 0 }, `max_cgroups: 0 out of range (want 1 to 4096)`},
		{func(c *Attribution) { c.MaxCgroups = 5000 }, `max_cgroups: 5000 out of range (want 1 to 4096)`},
		{func(c *Attribution) { c.ByCgroup, c.Cgroups = true, []string{"pg[sql"} }, `cgroups: bad glob "pg[sql": unexpected end of input`},
		{func(c *Attribution) { c.ByCgroup, c.Cgroups = true, []string{""} }, `cgroups: empty pattern`},
		{func(c *Attribution) { c.Cgroups = []string{"*.service"} }, `cgroups: ["*.service"] needs by_cgroup = true`},
	} {
		c := Default()
		tt.edit(&c)
		require.EqualError(t, c.Validate(), tt.want)
	}
	c := Default()
	require.NoError(t, c.Validate())
	c.ByCgroup, c.Cgroups = true, []string{"postgresql@*", "/system.slice/*", "docker/{web,db}"}
	require.NoError(t, c.Validate())
}

func TestGlobsMatchTagOrPath(t *testing.T) {
	g, err := compileGlobs([]string{"postgresql@*", "/user.slice/*"})
	require.NoError(t, err)
	require.True(t, g.keeps("postgresql@15-main.service", "/system.slice/system-postgresql.slice/postgresql@15-main.service"))
	require.True(t, g.keeps("/user.slice/user-1000.slice/session-2.scope", "/user.slice/user-1000.slice/session-2.scope"))
	require.False(t, g.keeps("cron.service", "/system.slice/cron.service"))
	require.True(t, globs(nil).keeps("anything", "/anything"), "no globs keep all")
}
