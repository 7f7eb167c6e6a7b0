package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/lineproto"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
)

// stallGrace is how long a stop signal waits for the shim's own shutdown.
// The shim stops only after its last metric is written to stdout; when
// telegraf has stopped reading, that write never ends and the process stayed
// alive for minutes (until telegraf's SIGKILL, if it comes).
const stallGrace = 500 * time.Millisecond

// stoppable runs the plugin for the shim so that it can be stopped while a
// gather is stuck on stdout: each gather is read from the kernel under mu
// into line-protocol chunks that a stream writes to stdout meanwhile
// (lines.Out), never blocking the gather; the wait for the last chunk is
// outside mu. The lines go to stdout directly, not through the shim's
// accumulator: there every line was a telegraf.Metric, a channel send and
// a write(2) of its own.
type stoppable struct {
	plugin  *ebpf_latency.EbpfLatency
	lines   lineproto.Buffer // one gather's output; Out set
	mu      sync.Mutex       // held while the plugin starts, reads the kernel or stops
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
	s.lines.Reset()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	err := s.plugin.Gather(lineproto.Accumulator{Buffer: &s.lines, Errors: acc})
	s.lines.Flush()
	s.mu.Unlock()
	if s.lines.Dropped > 0 {
		acc.AddError(fmt.Errorf("%d metrics dropped: no field line protocol can carry (NaN, Inf) or no name", s.lines.Dropped))
	}
	if werr := s.lines.Out.Wait(); werr != nil { // blocks while stdout is not read
		return fmt.Errorf("writing metrics: %w", werr)
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
