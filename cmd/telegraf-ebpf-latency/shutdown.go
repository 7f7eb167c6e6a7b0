package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
)

// stallGrace is how long a stop signal waits for the shim's own shutdown.
// The shim stops only after its last metric is written to stdout; when
// telegraf has stopped reading, that write never ends and the process stayed
// alive for minutes (until telegraf's SIGKILL, if it comes).
const stallGrace = 500 * time.Millisecond

// stoppable runs the plugin for the shim so that it can be stopped while a
// gather is stuck on stdout: each gather is read from the kernel into a
// buffer under mu, then handed to the shim without holding it.
type stoppable struct {
	plugin  *ebpf_latency.EbpfLatency
	mu      sync.Mutex // held while the plugin starts, reads the kernel or stops
	stopped bool
}

func (s *stoppable) SampleConfig() string { return s.plugin.SampleConfig() }

// Init runs the plugin's Init again, now with the shim's logger: it warns
// about ignored tables.
func (s *stoppable) Init() error { return s.plugin.Init() }

func (s *stoppable) Start(acc telegraf.Accumulator) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plugin.Start(acc)
}

func (s *stoppable) Gather(acc telegraf.Accumulator) error {
	buf := &gatherBuffer{Accumulator: acc}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	err := s.plugin.Gather(buf)
	s.mu.Unlock()
	for _, m := range buf.metrics {
		acc.AddMetric(m) // blocks while stdout is not read
	}
	return err
}

// Stop detaches the probes once, whoever asks first.
func (s *stoppable) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.plugin.Stop()
		s.stopped = true
	}
}

// exitWhenStalled ends the process stallGrace after SIGINT or SIGTERM if the
// shim has not ended it by then: it detaches the probes, says on stderr that
// the unwritten metrics are dropped, and exits 1.
func exitWhenStalled(s *stoppable) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		time.Sleep(stallGrace)
		s.Stop()
		said := make(chan struct{})
		go func() { // stderr may be stalled too
			os.Stderr.WriteString("telegraf-ebpf-latency: stdout not read for " + stallGrace.String() +
				" after the stop signal: exiting, unwritten metrics dropped\n")
			close(said)
		}()
		select {
		case <-said:
		case <-time.After(100 * time.Millisecond):
		}
		os.Exit(1)
	}()
}

// gatherBuffer keeps one gather's metrics; errors and delivery tracking go
// to the shim's accumulator it wraps.
type gatherBuffer struct {
	telegraf.Accumulator
	metrics []telegraf.Metric
}

func (b *gatherBuffer) add(name string, fields map[string]any, tags map[string]string, vt telegraf.ValueType, t []time.Time) {
	ts := time.Now()
	if len(t) > 0 {
		ts = t[0]
	}
	b.metrics = append(b.metrics, metric.New(name, tags, fields, ts, vt))
}

func (b *gatherBuffer) AddFields(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Untyped, t)
}

func (b *gatherBuffer) AddGauge(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Gauge, t)
}

func (b *gatherBuffer) AddCounter(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Counter, t)
}

func (b *gatherBuffer) AddSummary(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Summary, t)
}

func (b *gatherBuffer) AddHistogram(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.add(name, fields, tags, telegraf.Histogram, t)
}

func (b *gatherBuffer) AddMetric(m telegraf.Metric) { b.metrics = append(b.metrics, m) }
