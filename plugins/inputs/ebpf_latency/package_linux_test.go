//go:build linux

package ebpf_latency_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/captest"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// What the package installs (packaging/main.go).
const (
	pkgName    = "telegraf-ebpf-latency"
	pkgBinary  = "/usr/bin/telegraf-ebpf-latency"
	pkgConfig  = "/etc/telegraf/telegraf-ebpf-latency.conf"
	pkgSnippet = "/etc/telegraf/telegraf.d/telegraf-ebpf-latency.conf"
	pkgState   = "/var/lib/telegraf-ebpf-latency"
)

// Workload sizes: each probe must count exactly what the test issues.
const (
	pkgWrites   = 30 // O_DIRECT writes to the loop device
	pkgSyncs    = 7  // fdatasync calls by syncComm
	pkgCalls    = 5  // do_work calls by the func worker
	pkgConnects = 4  // connects to the test's listener
	syncComm    = "ebpfpkgsync"
)

// TestPackageInstalledForReal builds the .deb, installs it with dpkg, runs a
// real telegraf as user telegraf on the installed snippet, with the plugin
// holding only the capabilities the package's postinst gave it, and sees
// every probe start and count its workload exactly (tcp_retransmits: the
// client kernel's own count of segments retransmitted through a lossy
// line). Then it removes the package while telegraf runs (no plugin process
// or BPF object may remain) and purges it (no file, capability or user
// created by it may remain).
func TestPackageInstalledForReal(t *testing.T) {
	testenv.RequirePrivileged(t)
	telegraf := findTelegraf(t)
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Fatal("dpkg not found: this test installs the .deb on a Debian-family host")
	}
	requireNotInstalled(t)
	_, userErr := user.Lookup("telegraf")
	userExisted := userErr == nil

	dir := captest.ReadableDir(t)
	bin, _ := buildPlugin(t, t.TempDir())
	deb := buildDeb(t, bin, t.TempDir())

	beforePrograms, beforeMaps := programIDs(t), mapIDs(t)
	dpkg(t, "-i", deb)
	t.Cleanup(func() {
		if installed() {
			dpkg(t, "--purge", pkgName)
		}
	})
	requireInstalledFiles(t)

	// The workload's targets, then the plugin config naming them.
	img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
	require.NoError(t, os.WriteFile(img, nil, 0o600))
	require.NoError(t, os.Truncate(img, 64<<20))
	dev := testenv.NewLoopDevice(t, img)
	worker := buildFuncWorker(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go acceptAndEcho(ln)
	port := ln.Addr().(*net.TCPAddr).Port
	line := testenv.NewDelayLine(t, 0) // for tcp_retransmits: it drops on demand
	lossyPort := discardServer(t, line)
	require.NoError(t, os.WriteFile(pkgConfig, []byte(fmt.Sprintf(`[[inputs.ebpf_latency]]
  probes = ["disk", "syscall", "runq", "tcp_rtt", "tcp_connect", "tcp_retransmits", "func"]
  [inputs.ebpf_latency.disk]
    devices = [%q]
    stages = ["service"]
  [inputs.ebpf_latency.syscall]
    syscalls = ["fdatasync"]
    comms = [%q]
  [inputs.ebpf_latency.runq]
    comms = [%q]
  [inputs.ebpf_latency.tcp]
    ports = [%d, %d]
  [[inputs.ebpf_latency.functions]]
    binary = %q
    symbol = "do_work"
`, dev.Name, syncComm, syncComm, port, lossyPort, worker)), 0o644))

	// Telegraf as user telegraf: agent and output here, the input from the
	// installed snippet.
	output := filepath.Join(dir, "metrics.out")
	require.NoError(t, os.WriteFile(output, nil, 0o644))
	tgUser, err := user.Lookup("telegraf")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(tgUser.Uid)
	gid, _ := strconv.Atoi(tgUser.Gid)
	require.NoError(t, os.Chown(output, uid, gid))
	mainConf := filepath.Join(dir, "telegraf.conf")
	require.NoError(t, os.WriteFile(mainConf, []byte(fmt.Sprintf(`[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true
[[outputs.file]]
  files = [%q]
  data_format = "influx"
`, output)), 0o644))
	tg := startTelegrafAs(t, telegraf, []string{"--config", mainConf, "--config-directory", "/etc/telegraf/telegraf.d"},
		filepath.Join(dir, "telegraf.log"), &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)})
	t.Cleanup(func() { killLeftovers(t, pkgBinary) })

	hooks := map[string]string{"disk": "tp_btf", "syscall": "tp_btf", "runq": "tp_btf", "tcp_rtt": "sock_ops",
		"tcp_connect": "tp_btf", "tcp_retransmits": "tp_btf", "func": "uprobe_multi"}
	// The head of each auto chain on this kernel, as each probe's tests
	// establish; none for the probes without start times. disk's auto adds
	// its own start times at run time once any disk of the host completes
	// a request without the kernel's (a passthrough command such as a
	// udev serial read): either value is right here, and the disk tests
	// pin both.
	startTimes := map[string]string{"disk": "kernel", "syscall": "task_storage", "runq": "kernel",
		"tcp_connect": "socket_storage", "func": "task_storage"}
	startTimesOK := func(probe, got string) bool {
		return got == startTimes[probe] || probe == "disk" && got == "kernel+probe"
	}
	waitOutput(t, tg, output, startTimeout, func(points []point) (bool, string) {
		for probe, hook := range hooks {
			p, ok := lastLine(points, "ebpf_latency_probe", map[string]string{"probe": probe}, "")
			if !ok || p.fields["up"] != "1i" || p.tags["hook"] != hook || !startTimesOK(probe, p.tags["start_times"]) {
				return false, fmt.Sprintf("%s: want up through %s, start_times %q, got %q", probe, hook, startTimes[probe], p.raw)
			}
		}
		return true, ""
	})
	plugin := processesOf(pkgBinary)
	require.Len(t, plugin, 1, "one plugin process under telegraf")
	requireRunsAs(t, plugin[0], uid)

	testenv.IssueDirect(t, dev.Path, true, pkgWrites, 0)
	syncFile := filepath.Join(dir, "synced")
	require.NoError(t, os.WriteFile(syncFile, []byte("x"), 0o644))
	syncCopy := filepath.Join(dir, syncComm)
	copyFile(t, "/bin/sync", syncCopy)
	for range pkgSyncs {
		out, err := exec.Command(syncCopy, "-d", syncFile).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	runFuncWorker(t, worker, strconv.Itoa(pkgCalls), "2")
	for range pkgConnects {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		roundTrip(t, c)
		require.NoError(t, c.Close())
	}

	retransmitted := lossyUpload(t, line, lossyPort)

	want := []struct {
		measurement string
		tags        map[string]string
		count       int
		exact       bool
	}{
		{"ebpf_disk_latency", map[string]string{"device": dev.Name, "op": "write", "stage": "service"}, pkgWrites, true},
		{"ebpf_syscall_latency", map[string]string{"syscall": "fdatasync", "comm": syncComm}, pkgSyncs, true},
		{"ebpf_func_latency", map[string]string{"function": "do_work"}, pkgCalls, true},
		{"ebpf_tcp_connect_latency", map[string]string{"peer": "127.0.0.1", "direction": "active"}, pkgConnects, true},
		// Every sync process is woken at least once; the client's end of
		// each connection takes at least its round trip's RTT sample.
		{"ebpf_runq_latency", map[string]string{"comm": syncComm}, 1, false},
		{"ebpf_tcp_rtt", map[string]string{"peer": "127.0.0.1"}, pkgConnects, false},
	}
	waitOutput(t, tg, output, countTimeout, func(points []point) (bool, string) {
		for _, w := range want {
			p, ok := lastLine(points, w.measurement, w.tags, "")
			n, _ := strconv.Atoi(strings.TrimSuffix(p.fields["seconds_count"], "i"))
			if !ok || n < w.count || (w.exact && n != w.count) {
				return false, fmt.Sprintf("%s %v: want count %d (exact %v), got %q", w.measurement, w.tags, w.count, w.exact, p.raw)
			}
		}
		segments := fmt.Sprintf("%di", retransmitted)
		if p, _ := lastLine(points, "ebpf_tcp_retransmits", map[string]string{"peer": line.B4.String()}, ""); p.fields["segments"] != segments {
			return false, fmt.Sprintf("ebpf_tcp_retransmits: want segments=%s (the client's tcpi_total_retrans), got %q", segments, p.raw)
		}
		return true, ""
	})

	// Removal while telegraf runs: prerm stops the plugin, which detaches.
	dpkg(t, "--remove", pkgName)
	deadline := time.Now().Add(stopTimeout)
	for len(processesOf(pkgBinary)) > 0 || len(processesOf(pkgBinary+" (deleted)")) > 0 {
		require.True(t, time.Now().Before(deadline), "plugin still running after dpkg --remove")
		time.Sleep(50 * time.Millisecond)
	}
	requireNoNewKernelObjects(t, beforePrograms, beforeMaps)
	tg.stop(t)

	dpkg(t, "--purge", pkgName)
	requireNotInstalled(t)
	for _, path := range []string{pkgBinary, pkgConfig, pkgSnippet, pkgState, "/usr/share/doc/" + pkgName} {
		_, err := os.Lstat(path)
		require.True(t, os.IsNotExist(err), "%s left behind after purge", path)
	}
	if !userExisted {
		_, err := user.Lookup("telegraf")
		require.Error(t, err, "the telegraf user the package created is left behind")
	}
}

// buildDeb runs the packaging module on bin and returns the .deb's path.
func buildDeb(t *testing.T, bin, out string) string {
	t.Helper()
	cmd := exec.Command("go", "run", ".", "-binary", bin, "-repo", "..", "-out", out)
	cmd.Dir = "../../../packaging"
	made, err := cmd.CombinedOutput()
	require.NoError(t, err, "packaging: %s", made)
	debs, _ := filepath.Glob(filepath.Join(out, "*.deb"))
	rpms, _ := filepath.Glob(filepath.Join(out, "*.rpm"))
	require.Len(t, debs, 1, "%s", made)
	require.Len(t, rpms, 1, "%s", made)
	requireMetadata(t, debs[0], rpms[0])
	return debs[0]
}

// requireMetadata reads both packages back with their own tools: version
// from git, license, the setcap provider as dependency, telegraf
// recommended, config files marked, the postinst granting capabilities.
func requireMetadata(t *testing.T, deb, rpm string) {
	t.Helper()
	query := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
		return string(out)
	}
	version := regexp.MustCompile(`^\d+\.\d+\.\d+\+(\d+\.)?g[0-9a-f]+(\.dirty)?-1$`)
	require.Regexp(t, version, strings.TrimSpace(query("dpkg-deb", "-f", deb, "Version")))
	require.Equal(t, "libcap2-bin", strings.TrimSpace(query("dpkg-deb", "-f", deb, "Depends")))
	require.Equal(t, "telegraf", strings.TrimSpace(query("dpkg-deb", "-f", deb, "Recommends")))
	require.Regexp(t, version, strings.TrimSpace(query("rpm", "-qp", "--qf", "%{VERSION}-%{RELEASE}", rpm)))
	require.Equal(t, "Apache-2.0", query("rpm", "-qp", "--qf", "%{LICENSE}", rpm))
	require.Contains(t, query("rpm", "-qp", "--requires", rpm), "libcap\n")
	require.Contains(t, query("rpm", "-qp", "--recommends", rpm), "telegraf")
	require.Equal(t, pkgConfig+"\n"+pkgSnippet+"\n", query("rpm", "-qpc", rpm))
	require.Contains(t, query("rpm", "-qp", "--scripts", rpm), `setcap "$caps+ep" "$bin"`)
}

func dpkg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("dpkg", args...).CombinedOutput()
	require.NoError(t, err, "dpkg %v: %s", args, out)
}

func installed() bool {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", pkgName).Output()
	return string(out) != "" && string(out) != "not-installed"
}

func requireNotInstalled(t *testing.T) {
	t.Helper()
	require.False(t, installed(), "%s is installed: this test installs and purges it itself", pkgName)
}

// requireInstalledFiles checks what the package and its postinst set up.
func requireInstalledFiles(t *testing.T) {
	t.Helper()
	out, err := exec.Command("getcap", pkgBinary).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, pkgBinary+" cap_dac_read_search,cap_net_admin,cap_perfmon,cap_bpf=ep", strings.TrimSpace(string(out)))
	st, err := os.Stat(pkgBinary)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o750), st.Mode().Perm(), "only root and group telegraf run it")
	grp, err := user.LookupGroup("telegraf")
	require.NoError(t, err)
	require.Equal(t, grp.Gid, strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Gid)))
	conffiles, err := exec.Command("dpkg-query", "-W", "-f=${Conffiles}", pkgName).Output()
	require.NoError(t, err)
	require.Contains(t, string(conffiles), pkgConfig+" ")
	require.Contains(t, string(conffiles), pkgSnippet+" ")
	snippet, err := os.ReadFile(pkgSnippet)
	require.NoError(t, err)
	require.Contains(t, string(snippet), `command = ["/usr/bin/telegraf-ebpf-latency", "-config", "/etc/telegraf/telegraf-ebpf-latency.conf", "-poll_interval_disabled"]`)
}

// requireRunsAs checks that pid runs as uid holding exactly the file's
// capabilities, nothing inherited from root.
func requireRunsAs(t *testing.T, pid, uid int) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	require.Regexp(t, fmt.Sprintf(`(?m)^Uid:\s+%d\s+%d\s`, uid, uid), string(status))
	// CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_PERFMON (38), CAP_BPF (39).
	require.Regexp(t, `(?m)^CapEff:\s+000000c000001004$`, string(status))
}

func mapIDs(t *testing.T) map[ebpf.MapID]bool {
	t.Helper()
	ids := map[ebpf.MapID]bool{}
	for id := ebpf.MapID(0); ; {
		next, err := ebpf.MapGetNextID(id)
		if err != nil {
			return ids
		}
		ids[next], id = true, next
	}
}

// requireNoNewKernelObjects waits for every BPF program and map created
// since the snapshot to be gone (the test holds the kernel-tests lock, so
// no other test loads any meanwhile).
func requireNoNewKernelObjects(t *testing.T, programs map[ebpf.ProgramID]bool, maps map[ebpf.MapID]bool) {
	t.Helper()
	deadline := time.Now().Add(releaseTimeout)
	for {
		var left []string
		for id := range programIDs(t) {
			if !programs[id] {
				left = append(left, fmt.Sprintf("program %d", id))
			}
		}
		for id := range mapIDs(t) {
			if !maps[id] {
				left = append(left, fmt.Sprintf("map %d", id))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left in the kernel after removal: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lastLine is the last line of measurement whose tags include tags, with
// tag le equal to le ("" for the summary line).
func lastLine(points []point, measurement string, tags map[string]string, le string) (point, bool) {
	for _, p := range slices.Backward(points) {
		if p.name == measurement && p.tags["le"] == le && hasTags(p, tags) {
			return p, true
		}
	}
	return point{}, false
}

func hasTags(p point, tags map[string]string) bool {
	for k, v := range tags {
		if p.tags[k] != v {
			return false
		}
	}
	return true
}

// buildFuncWorker compiles the func probe's test workload into dir.
func buildFuncWorker(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "worker")
	out, err := exec.Command("gcc", "-O0", "-g", "-o", bin, "func/testdata/worker.c").CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return bin
}

// runFuncWorker runs `worker work <count> <ms>` to completion.
func runFuncWorker(t *testing.T, bin, count, ms string) {
	t.Helper()
	cmd := exec.Command(bin, "work", count, ms)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	_, err = io.WriteString(stdin, "go\n")
	require.NoError(t, err)
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait())
}

func acceptAndEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

func roundTrip(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := c.Write([]byte("ping"))
	require.NoError(t, err)
	_, err = io.ReadFull(c, make([]byte, 4))
	require.NoError(t, err)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, 0o755))
}
