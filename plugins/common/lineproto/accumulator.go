package lineproto

import (
	"time"

	"github.com/influxdata/telegraf"
)

// Accumulator is a telegraf.Accumulator writing metrics into a Buffer;
// errors and delivery tracking go to Errors.
type Accumulator struct {
	*Buffer
	Errors telegraf.Accumulator
}

func (a Accumulator) AddError(err error) { a.Errors.AddError(err) }

// SetPrecision is ignored: timestamps are written in nanoseconds, the
// precision telegraf's shim sets.
func (Accumulator) SetPrecision(time.Duration) {}

func (a Accumulator) WithTracking(maxTracked int) telegraf.TrackingAccumulator {
	return a.Errors.WithTracking(maxTracked)
}

// The metric types are not written in line protocol.

func (b *Buffer) AddGauge(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.AddFields(name, fields, tags, t...)
}

func (b *Buffer) AddCounter(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.AddFields(name, fields, tags, t...)
}

func (b *Buffer) AddSummary(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.AddFields(name, fields, tags, t...)
}

func (b *Buffer) AddHistogram(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	b.AddFields(name, fields, tags, t...)
}
