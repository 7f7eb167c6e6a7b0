package bench

import (
	"fmt"
	"strings"
	"testing"

	"github.com/influxdata/telegraf/testutil"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// startRegistered starts probe name through the registry with cfg, as the
// plugin does, and finds its programs among the fds this process gained:
// those whose kernel name starts with prefix, the per-event ones starting
// with perEvent. recorded (nil: not countable) reads the samples the probe
// holds for the workload. Every path's probe variants start here.
func startRegistered(t testing.TB, name string, cfg probe.Config, prefix, perEvent string,
	recorded func(probe.Probe) (uint64, error)) (*Running, error) {
	def, ok := probe.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("probe %q not registered", name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	before, err := OwnedProgramIDs("self")
	if err != nil {
		return nil, err
	}
	p := def.New(cfg, testutil.Logger{Name: "bench", Quiet: true})
	if u, ok := p.(histogram.User); ok { // as the plugin does, with its defaults
		u.UseHistograms(histogram.Options{Quantiles: histogram.DefaultQuantiles}.WithTable(cfg))
	}
	if err := p.Start(); err != nil {
		return nil, err
	}
	after, err := OwnedProgramIDs("self")
	if err != nil {
		_ = p.Stop()
		return nil, err
	}
	progs, err := openNew(before, after, prefix)
	if err != nil {
		_ = p.Stop()
		return nil, err
	}
	run := newRunning(t, func() error {
		closeAll(progs)
		return p.Stop()
	})
	run.Programs = progs
	for _, prog := range progs {
		if strings.HasPrefix(progName(prog), perEvent) {
			run.Events = append(run.Events, prog)
		}
	}
	if len(run.Events) == 0 {
		_ = run.Stop()
		return nil, fmt.Errorf("%s: no program named %s* among %d new ones", name, perEvent, len(progs))
	}
	if recorded != nil {
		run.Recorded = func() (uint64, error) { return recorded(p) }
	}
	run.Health = func() map[string]uint64 { return p.Status().Counters }
	return run, nil
}

// samplesWith sums the sample counts of the series of measurement whose
// tags include tags (others, e.g. cgroup, may be there too).
func samplesWith(p probe.Probe, measurement string, tags map[string]string) (uint64, error) {
	var acc testutil.Accumulator
	if err := p.Gather(&acc); err != nil {
		return 0, err
	}
	var n uint64
	for _, m := range acc.GetTelegrafMetrics() {
		if _, isBucket := m.GetTag(histogram.TagBound); m.Name() != measurement || isBucket {
			continue
		}
		if c, ok := m.GetField(histogram.FieldCount); ok && hasTags(m.Tags(), tags) {
			n += c.(uint64)
		}
	}
	return n, nil
}

func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// seriesCount is the sample count of the one series of measurement whose
// tags are exactly tags; 0 before its first sample.
func seriesCount(p probe.Probe, measurement string, tags map[string]string) (uint64, error) {
	var acc testutil.Accumulator
	if err := p.Gather(&acc); err != nil {
		return 0, err
	}
	s, _ := testenv.FindSeries(&acc, measurement, tags)
	return s.Count, nil
}
