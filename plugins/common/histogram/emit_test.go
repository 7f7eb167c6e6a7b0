package histogram_test

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/histogram"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/lineproto"
)

// perLine hides AddBuckets: the Emitter writes every bucket line with
// AddFields, as into telegraf's own accumulators.
type perLine struct {
	telegraf.Accumulator // nil: only AddFields is called
	b                    *lineproto.Buffer
}

func (p perLine) AddFields(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	p.b.AddFields(name, fields, tags, t...)
}

func TestBucketAdderWritesWhatAddFieldsWrites(t *testing.T) {
	for _, opts := range []histogram.Options{
		{Quantiles: histogram.DefaultQuantiles},
		{Scheme: histogram.Log2x4},
		{Layout: histogram.IntervalCounts, Quantiles: histogram.DefaultQuantiles},
	} {
		fast, slow := histogram.NewEmitter(opts), histogram.NewEmitter(opts)
		var fastOut, slowOut lineproto.Buffer
		var iv histogram.Interval
		for gather := range 3 {
			now := time.Unix(int64(1000+gather), 0)
			for series := range 5 {
				for s := series; s < opts.Scheme.Slots(); s += 7 {
					iv.Slots[s] += uint64(gather*series + s)
				}
				iv.SumNs += 12345
				iv.MaxNs, iv.MinNs, iv.Sampled = 9000, 3000, true
				tags := map[string]string{"device": "sd" + string(rune('a'+series)), "op": "read", "z": "1"}
				fast.Emit(lineproto.Accumulator{Buffer: &fastOut}, "m", tags, &iv, now)
				require.Len(t, tags, 3, "le removed again")
				slow.Emit(perLine{b: &slowOut}, "m", tags, &iv, now)
			}
		}
		require.NotEmpty(t, fastOut.String())
		require.Equal(t, slowOut.String(), fastOut.String(), "%+v", opts)
	}
}
