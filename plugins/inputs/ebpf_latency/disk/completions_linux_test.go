package disk

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
)

// kernelCounting turns the block layer's I/O statistics on for dev: loop
// devices are reused, and a run that turned them off leaves them off.
func kernelCounting(t *testing.T, dev *testenv.LoopDevice) {
	t.Helper()
	path := filepath.Join("/sys/block", dev.Name, "queue", "iostats")
	if b, err := os.ReadFile(path); err == nil && string(b) == "1\n" {
		return
	}
	require.NoError(t, os.WriteFile(path, []byte("1"), 0))
	t.Logf("%s: iostats was off, turned on", dev.Name)
}

// completionsOf is the ebpf_disk_completions line of one disk and op.
func completionsOf(t *testing.T, acc *testutil.Accumulator, dev, op string) (kernel, probe, unseen uint64) {
	t.Helper()
	for _, m := range acc.GetTelegrafMetrics() {
		if m.Name() != CompletionsMeasurement || m.Tags()["device"] != dev || m.Tags()["op"] != op {
			continue
		}
		f := m.Fields()
		return f["kernel"].(uint64), f["probe"].(uint64), f["unseen"].(uint64)
	}
	t.Fatalf("no %s line for %s %s", CompletionsMeasurement, dev, op)
	return
}

// Completions the hook never sees (here: I/O issued after its programs were
// detached, the way a kernel that skips a program run loses them) are
// counted per disk against the block layer's own count.
func TestUnseenCompletionsCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	const seenReads, seenWrites, lostReads, lostWrites = 5, 3, 7, 2
	for _, hook := range []string{"tp_btf", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			dev := loopOnTmpfs(t)
			kernelCounting(t, dev)
			testenv.IssueDirect(t, dev.Path, false, 4, 0) // before start: not counted
			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook = []string{dev.Name}, hook
			p := startProbe(t, cfg)

			testenv.IssueDirect(t, dev.Path, true, seenWrites, 0)
			testenv.IssueDirect(t, dev.Path, false, seenReads, 0)
			require.NoError(t, p.att.Detach())
			testenv.IssueDirect(t, dev.Path, true, lostWrites, 10)
			testenv.IssueDirect(t, dev.Path, false, lostReads, 10)
			acc := gather(t, p)

			kernel, probe, unseen := completionsOf(t, acc, dev.Name, "read")
			require.Equal(t, []uint64{seenReads + lostReads, seenReads, lostReads}, []uint64{kernel, probe, unseen}, "reads: kernel, probe, unseen")
			kernel, probe, unseen = completionsOf(t, acc, dev.Name, "write")
			require.Equal(t, []uint64{seenWrites + lostWrites, seenWrites, lostWrites}, []uint64{kernel, probe, unseen}, "writes: kernel, probe, unseen")
			require.GreaterOrEqual(t, p.Status().Counters["unseen_completions"], uint64(lostReads+lostWrites))
		})
	}
}

// A short fio run of concurrent O_DIRECT reads: every read fio completed is
// either in the histogram or counted as unseen, never silently missing.
func TestEveryFioReadMeasuredOrCounted(t *testing.T) {
	testenv.RequirePrivileged(t)
	if _, err := exec.LookPath("fio"); err != nil {
		t.Fatalf("fio: %v", err)
	}
	for _, hook := range []string{"tp_btf", "tracepoint"} {
		t.Run(hook, func(t *testing.T) {
			dev := loopOnTmpfs(t)
			kernelCounting(t, dev)
			cfg := DefaultConfig()
			cfg.Devices, cfg.Hook = []string{dev.Name}, hook
			p := startProbe(t, cfg)
			reads := runFio(t, dev.Path)
			acc := gather(t, p)

			kernel, probe, unseen := completionsOf(t, acc, dev.Name, "read")
			require.Equal(t, reads, kernel, "the block layer counts every read fio did")
			s, ok := findSeries(acc, map[string]string{"device": dev.Name, "op": "read", "stage": StageService})
			require.True(t, ok)
			st := p.Status().Counters
			require.LessOrEqual(t, probe, reads, "no read counted twice")
			require.Equal(t, reads, probe+unseen, "seen %d + unseen %d (recursion misses %d)", probe, unseen, st["recursion_misses"])
			require.LessOrEqual(t, probe-s.Count, st["untimed_completions"], "seen but not measured: counted untimed")
		})
	}
}

// runFio reads the device with two psync jobs for two seconds and returns
// the reads fio completed.
func runFio(t *testing.T, devPath string) uint64 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fio.json")
	cmd := exec.CommandContext(t.Context(), "fio", "--name=reads", "--filename="+devPath,
		"--rw=randread", "--bs=4k", "--direct=1", "--ioengine=psync", "--numjobs=2",
		"--size=32m", "--time_based", "--runtime=2", "--invalidate=0", "--group_reporting",
		"--output-format=json", "--output="+out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "fio: %s", msg)
	var rep struct {
		Jobs []struct {
			Error int `json:"error"`
			Read  struct {
				TotalIOs uint64 `json:"total_ios"`
			} `json:"read"`
		} `json:"jobs"`
	}
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Len(t, rep.Jobs, 1)
	require.Zero(t, rep.Jobs[0].Error)
	require.Positive(t, rep.Jobs[0].Read.TotalIOs)
	return rep.Jobs[0].Read.TotalIOs
}
