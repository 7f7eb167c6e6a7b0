//go:build linux

package ebpf_latency_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// A thread named with bytes that are not UTF-8 reaches Prometheus, through
// the real telegraf and its prometheus_client output, under its escaped
// comm: raw, the client library would refuse the label value.
func TestPrometheusTakesANonUTF8Comm(t *testing.T) {
	testenv.RequirePrivileged(t)
	telegraf := findTelegraf(t)
	requireOutput(t, telegraf, "outputs.prometheus_client")
	prometheus := findCommand(t, "prometheus", "apt-get install prometheus")
	dir := t.TempDir()
	img := filepath.Join(testenv.TmpfsDir(t), "disk.img")
	require.NoError(t, os.WriteFile(img, make([]byte, 1<<20), 0o600))
	dev := testenv.NewLoopDevice(t, img)
	exporter := freePort(t)
	pluginConf := func(dir string) string {
		path := filepath.Join(dir, "telegraf-ebpf-latency.conf")
		conf := fmt.Sprintf(`[[inputs.ebpf_latency]]
  probes = ["disk", "syscall"]
  [inputs.ebpf_latency.disk]
    devices = [%q]
  [inputs.ebpf_latency.syscall]
    syscalls = ["getppid"]
    pids = [%d]
`, dev.Name, os.Getpid())
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
		return path
	}
	st := startStackWith(t, telegraf, pluginConf,
		fmt.Sprintf("\n[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 2\n", exporter))
	api := startPrometheus(t, prometheus, dir, exporter)

	const calls = 9
	name := "\xff\xfeodd"
	testenv.AsNamedThread(t, name, func() {
		for range calls {
			unix.Getppid()
		}
	})
	comm := tagvalue.Escape(name) // \xff\xfeodd, backslashes and all
	q := fmt.Sprintf("ebpf_syscall_latency_seconds_count{syscall=\"getppid\",comm=%q}", comm)
	require.Equal(t, float64(calls), waitPromQL(t, api, q, func(v float64) bool { return v == calls }), "%s", q)
	st.tg.stop(t)
}
