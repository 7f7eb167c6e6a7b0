// Package ebpf_latency is the telegraf input that runs the eBPF latency
// probes and emits their histograms.
package ebpf_latency

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/inputs"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

//go:embed sample.conf
var sampleConfig string

// EbpfLatency runs the configured probes.
type EbpfLatency struct {
	Probes []string `toml:"probes"`
	// Buckets is the bucket scheme, "log2" (default) or "log2x4"; a probe
	// table's own buckets key overrides it.
	Buckets string `toml:"buckets"`
	// Quantiles are written on each summary line; nil means the default,
	// empty none.
	Quantiles []float64 `toml:"quantiles"`
	// BucketCounts is "cumulative" (default) or "interval"; see histogram.Layout.
	BucketCounts string `toml:"bucket_counts"`
	// ExpireIdleSeries is how long a series may go without a new sample
	// before it stops being written and its kernel slot is freed; "0s" never.
	ExpireIdleSeries string `toml:"expire_idle_series"`
	// UnchangedSeriesEvery is how often a series without new samples is
	// written again; "0s" (default): every gather. See histogram.Options.
	UnchangedSeriesEvery string `toml:"unchanged_series_every"`
	// Configs holds the probe tables by key, [inputs.ebpf_latency.<key>].
	Configs map[string]probe.Config `toml:"-"`

	Log telegraf.Logger `toml:"-"`

	settingsTables []string // probe tables that set a key, from Parse

	hist       histogram.Options
	expireIdle time.Duration
	running    map[string]probe.Probe
	failed     map[string]error
	warned     map[string]bool // probe/counter overflows already logged
}

// SampleConfig is the embedded default configuration.
func (*EbpfLatency) SampleConfig() string { return sampleConfig }

// Init validates the configuration; it loads nothing.
func (e *EbpfLatency) Init() error {
	if len(e.Probes) == 0 {
		return fmt.Errorf("%s.probes: empty list (want some of %s)", tablePrefix, quoted(probe.Names()))
	}
	for i, name := range e.Probes {
		if _, ok := probe.Lookup(name); !ok {
			return fmt.Errorf("%s.probes: unknown probe %q (want one of %s)", tablePrefix, name, quoted(probe.Names()))
		}
		if slices.Index(e.Probes, name) != i {
			return fmt.Errorf("%s.probes: %q listed twice", tablePrefix, name)
		}
	}
	e.warnUnlistedTables()
	if err := e.parseHistogramKeys(); err != nil {
		return err
	}
	if err := e.parseExpireIdle(); err != nil {
		return err
	}
	if e.Configs == nil {
		e.Configs = map[string]probe.Config{}
	}
	for _, name := range e.Probes {
		def, _ := probe.Lookup(name)
		if _, ok := e.Configs[def.ConfigKey()]; !ok {
			e.Configs[def.ConfigKey()] = def.NewConfig()
		}
	}
	for key, cfg := range e.Configs {
		if err := checkTableBuckets(key, cfg); err != nil {
			return err
		}
		if err := cfg.Validate(); err != nil {
			sep := "."
			if strings.HasPrefix(err.Error(), "[") {
				sep = "" // an array of tables: functions[2].symbol
			}
			return fmt.Errorf("%s.%s%s%v", tablePrefix, key, sep, err)
		}
	}
	return nil
}

// warnUnlistedTables names the probe tables whose settings are ignored
// because no probe using them is listed in probes.
func (e *EbpfLatency) warnUnlistedTables() {
	if e.Log == nil { // Parse's own Init; the shim's Init logs
		return
	}
	for _, key := range e.settingsTables {
		used := false
		for _, name := range e.Probes {
			def, _ := probe.Lookup(name)
			used = used || def.ConfigKey() == key
		}
		if !used {
			users := []string{}
			for _, name := range probe.Names() {
				if def, _ := probe.Lookup(name); def.ConfigKey() == key {
					users = append(users, name)
				}
			}
			e.Log.Warnf("%s.%s: ignored: no probe using it (%s) is listed in %s.probes", tablePrefix, key, quoted(users), tablePrefix)
		}
	}
}

// Start attaches every probe it can. A probe that fails is logged once and
// reported as down in the self-metrics; the others keep running. Only when
// none starts does Start fail.
func (e *EbpfLatency) Start(telegraf.Accumulator) error {
	if err := kernel.CheckPrerequisites(); err != nil {
		return err
	}
	e.running = map[string]probe.Probe{}
	e.failed = map[string]error{}
	var reasons []string
	for _, name := range e.Probes {
		def, _ := probe.Lookup(name)
		p := def.New(e.Configs[def.ConfigKey()], e.Log)
		if u, ok := p.(histogram.User); ok {
			u.UseHistograms(e.histogramsOf(e.Configs[def.ConfigKey()]))
		}
		if x, ok := p.(idle.Expiring); ok {
			x.ExpireIdleSeries(e.expireIdle)
		}
		if err := p.Start(); err != nil {
			e.failed[name] = err
			reasons = append(reasons, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		e.running[name] = p
	}
	if len(e.running) == 0 {
		return errors.New("no probe could start: " + strings.Join(reasons, "; "))
	}
	// Said once here; the self-metrics keep saying it (up=0).
	for _, r := range reasons {
		e.Log.Errorf("probe %s", r)
	}
	return nil
}

// Gather emits every running probe's histograms and the self-metrics.
func (e *EbpfLatency) Gather(acc telegraf.Accumulator) error {
	for _, name := range e.Probes {
		if p, ok := e.running[name]; ok {
			if err := p.Gather(acc); err != nil {
				acc.AddError(fmt.Errorf("probe %s: %w", name, err))
			}
		}
	}
	e.gatherSelf(acc)
	return nil
}

// Stop detaches every probe; safe to call more than once.
func (e *EbpfLatency) Stop() {
	for name, p := range e.running {
		if err := p.Stop(); err != nil {
			e.Log.Errorf("probe %s: stopping: %v", name, err)
		}
	}
	e.running = nil
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func init() {
	inputs.Add("ebpf_latency", func() telegraf.Input {
		return &EbpfLatency{}
	})
}
