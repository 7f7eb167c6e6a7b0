package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/captest"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// allProbes configures every probe, func on libc's fsync.
const allProbes = `[[inputs.ebpf_latency]]
  probes = ["disk", "syscall", "runq", "tcp_rtt", "tcp_connect", "tcp_retransmits", "func"]
  [inputs.ebpf_latency.tcp]
    hook = "%s"
  [[inputs.ebpf_latency.functions]]
    binary = "/lib/x86_64-linux-gnu/libc.so.6"
    symbol = "fsync"
`

// runCheck runs `-check` on config as uid with exactly caps (uid 0: as the
// test runs), returning the exit code and output.
func runCheck(t *testing.T, uid uint32, caps []kernel.Capability, config string) (int, string) {
	t.Helper()
	dir := captest.ReadableDir(t)
	conf := filepath.Join(dir, "plugin.conf")
	require.NoError(t, os.WriteFile(conf, []byte(config), 0o644))
	data, err := os.ReadFile(binary(t))
	require.NoError(t, err)
	bin := filepath.Join(dir, "telegraf-ebpf-latency")
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	cmd := exec.Command(bin, "-check", "-config", conf)
	cmd.Dir = dir
	if uid != 0 {
		ambient := make([]uintptr, len(caps))
		for i, c := range caps {
			ambient[i] = uintptr(c.Bit)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}, AmbientCaps: ambient}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, out.String()
}

// row matches a probe's table row: name, hook, result.
func row(probe, hook, result string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + probe + ` +` + regexp.QuoteMeta(hook) + ` +` + regexp.QuoteMeta(result))
}

// As root every probe loads through its best hook on this kernel: exit 0.
func TestCheckAsRoot(t *testing.T) {
	captest.RequireRoot(t, "loads eBPF programs, runs the check as nobody")
	code, out := runCheck(t, 0, nil, sprintf(allProbes, "auto"))
	require.Equal(t, 0, code, out)
	for probe, hook := range map[string]string{"disk": "tp_btf", "syscall": "tp_btf", "runq": "tp_btf", "tcp_rtt": "sock_ops",
		"tcp_connect": "tp_btf", "tcp_retransmits": "tp_btf", "func": "uprobe_multi"} {
		require.Regexp(t, row(probe, hook, "ok  "), out)
	}
	require.Regexp(t, `(?m)^BTF +present at /sys/kernel/btf/vmlinux$`, out)
	require.Regexp(t, `(?m)^cgroup v2 +/`, out)
}

// As nobody: with no capability every probe says what it needs and the
// exit is 1; with CAP_BPF and CAP_PERFMON a pinned sock_ops names
// CAP_NET_ADMIN while the tracing probes run.
func TestCheckNamesMissingCapabilities(t *testing.T) {
	captest.RequireRoot(t, "loads eBPF programs, runs the check as nobody")
	code, out := runCheck(t, captest.Nobody, nil, sprintf(allProbes, "auto"))
	require.Equal(t, 1, code, out)
	for _, probe := range []string{"disk", "syscall", "runq", "tcp_rtt", "tcp_connect", "tcp_retransmits", "func"} {
		require.Regexp(t, row(probe, "-", "cannot run: needs CAP_BPF and CAP_PERFMON (every probe loads tracing programs)  grant CAP_BPF and CAP_PERFMON"), out)
	}

	code, out = runCheck(t, captest.Nobody, []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon}, sprintf(allProbes, "sock_ops"))
	require.Equal(t, 1, code, out)
	require.Regexp(t, row("tcp_rtt", "-", "cannot run: sock_ops: needs CAP_NET_ADMIN (cgroup sock_ops)  grant CAP_NET_ADMIN"), out)
	require.Regexp(t, row("disk", "tp_btf", "ok  "), out)
	require.Regexp(t, row("func", "uprobe_multi", "ok  "), out)
	require.Regexp(t, `(?m)^capabilities +CAP_BPF, CAP_PERFMON \(uid 65534\)$`, out)
}

// A host without kernel BTF (BTFPath pointed at nothing): every probe says
// so, with the remedy, and the check fails. Needs no privilege.
func TestCheckWithoutBTF(t *testing.T) {
	saved := kernel.BTFPath
	kernel.BTFPath = filepath.Join(t.TempDir(), "no-vmlinux")
	t.Cleanup(func() { kernel.BTFPath = saved })
	conf := filepath.Join(t.TempDir(), "plugin.conf")
	require.NoError(t, os.WriteFile(conf, []byte(sprintf(allProbes, "auto")), 0o644))
	var out bytes.Buffer
	require.Equal(t, 1, check(conf, &out))
	require.Regexp(t, `(?m)^BTF +missing: kernel BTF not found at /sys/kernel/btf/vmlinux: `, out.String())
	for _, probe := range []string{"disk", "tcp_rtt", "func"} {
		require.Regexp(t, row(probe, "-", "cannot run: kernel BTF not found"), out.String())
	}
	require.Contains(t, out.String(), "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y")
}

// A bad config is the config's error, one line, exit 1, nothing loaded.
func TestCheckBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "plugin.conf")
	require.NoError(t, os.WriteFile(conf, []byte("[[inputs.ebpf_latency]]\n  probes = [\"dsik\"]\n"), 0o644))
	var out bytes.Buffer
	require.Equal(t, 1, check(conf, &out))
	require.Equal(t, "config: "+conf+": inputs.ebpf_latency.probes: unknown probe \"dsik\"", firstLineUntil(out.String(), " (want"))
}

var sprintf = fmt.Sprintf

// firstLineUntil is s's first line, cut before sep.
func firstLineUntil(s, sep string) string {
	line, _, _ := strings.Cut(s, "\n")
	line, _, _ = strings.Cut(line, sep)
	return line
}
