package ebpf_latency_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The package's postinst picks the capability set by kernel: CAP_SYS_ADMIN
// where CAP_BPF/CAP_PERFMON do not exist (before 5.8), CAP_SYS_RESOURCE
// where maps are charged to RLIMIT_MEMLOCK (before 5.11). Run with stand-ins
// for uname and the tools it calls, which record their arguments; needs no
// root and changes nothing. With the opt-out in /etc/default it removes them.
func TestPostinstCapabilitiesPerKernel(t *testing.T) {
	for release, caps := range map[string]string{
		"4.18.0-553.el8_10.x86_64": "cap_sys_admin,cap_net_admin,cap_dac_read_search,cap_sys_resource+ep",
		"5.4.0-150-generic":        "cap_sys_admin,cap_net_admin,cap_dac_read_search,cap_sys_resource+ep",
		"5.10.0-28-amd64":          "cap_bpf,cap_perfmon,cap_net_admin,cap_dac_read_search,cap_sys_resource+ep",
		"5.11.0":                   "cap_bpf,cap_perfmon,cap_net_admin,cap_dac_read_search+ep",
		"6.18.44-fc-v782":          "cap_bpf,cap_perfmon,cap_net_admin,cap_dac_read_search+ep",
		"opt-out":                  "-r",
	} {
		t.Run(release, func(t *testing.T) {
			bin := t.TempDir()
			log := filepath.Join(bin, "calls")
			stub := func(name, body string) {
				require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
			}
			stub("uname", "echo 6.18.0")
			if release != "opt-out" {
				stub("uname", "echo "+release)
			}
			for _, tool := range []string{"getent", "groupadd", "useradd", "chown", "chmod", "setcap", "mkdir", "touch"} {
				stub(tool, `echo "`+tool+` $*" >> `+log)
			}
			// FILE_CAPABILITIES=no in /etc/default/telegraf-ebpf-latency, or not.
			stub("grep", map[bool]string{true: "exit 0", false: "exit 1"}[release == "opt-out"])
			cmd := exec.Command("/bin/sh", "../../../packaging/scripts/postinstall.sh", "configure")
			cmd.Env = []string{"PATH=" + bin}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			calls, err := os.ReadFile(log)
			require.NoError(t, err)
			require.Contains(t, string(calls), "setcap "+caps+" /usr/bin/telegraf-ebpf-latency\n")
			require.Contains(t, string(calls), "chmod 0750 /usr/bin/telegraf-ebpf-latency\n")
			require.Equal(t, 1, strings.Count(string(calls), "setcap "))
		})
	}
}
