package funcprobe

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/captest"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

const workerEnv = "EBPF_LATENCY_FUNC_WORKER"

// As nobody with CAP_BPF and CAP_PERFMON only: a perf_event_open uprobe is
// refused (CAP_SYS_ADMIN since Linux 6.16), and the message says so; the
// default chain attaches through uprobe_multi instead and counts every call.
func TestUnprivilegedUprobes(t *testing.T) {
	if !captest.InChild() {
		dir := captest.ReadableDir(t)
		bin := filepath.Join(dir, "worker")
		data, err := os.ReadFile(buildWorker(t))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(bin, data, 0o755))
		captest.Run(t, []kernel.Capability{kernel.CapBPF, kernel.CapPerfmon}, workerEnv+"="+bin)
		return
	}
	bin := os.Getenv(workerEnv)
	cfg := Config{{Binary: bin, Symbol: "do_work"}}
	require.NoError(t, cfg.Validate())
	require.NoError(t, kernel.CheckPrerequisites())

	perf := newProbe(cfg, testutil.Logger{}).(*funcProbe)
	perf.flavours = []hooks.Flavour{withCookies}
	err := perf.Start()
	require.ErrorContains(t, err, "(binary "+bin+", symbol do_work): needs CAP_SYS_ADMIN (uprobe through perf_event_open)")
	require.NotContains(t, err.Error(), "permission denied")

	p := runProbe(t, cfg, nil, testutil.Logger{})
	require.Equal(t, "uprobe_multi", p.Status().Hook)
	startWorker(t, bin, "work", "5", "2").run(t)
	require.Equal(t, uint64(5), gatherSeries(t, p, "worker", "do_work").count)
}
