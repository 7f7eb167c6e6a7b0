package lineproto

import (
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf/metric"
	"github.com/influxdata/telegraf/plugins/serializers/influx"
	"github.com/stretchr/testify/require"
)

// serialized is what telegraf's shim writes for one AddFields call: its
// accumulator's metric.New, then its influx serializer (fields sorted, as
// Buffer writes them; the shim's own order is the fields map's).
func serialized(t *testing.T, name string, fields map[string]any, tags map[string]string, at time.Time) string {
	t.Helper()
	s := &influx.Serializer{SortFields: true}
	require.NoError(t, s.Init())
	out, err := s.Serialize(metric.New(name, tags, fields, at))
	if err != nil {
		return "" // the shim would have stopped; Buffer drops the metric
	}
	return string(out)
}

// pieces mixes plain text with every byte line protocol escapes or trims.
var pieces = []string{"a", "Zz", "0.5", "+Inf", "le", "dev", " ", ",", "=", `\`, `"`, "\t", "\n", "\r", "\f", "é", "\x00", ""}

func randomText(r *rand.Rand) string {
	var s strings.Builder
	for range r.IntN(4) {
		s.WriteString(pieces[r.IntN(len(pieces))])
	}
	return s.String()
}

func randomValue(r *rand.Rand) any {
	switch r.IntN(14) {
	case 0:
		return r.Uint64()
	case 1:
		return uint64(math.MaxInt64) + uint64(r.IntN(3)) - 1
	case 2:
		return -r.Int64()
	case 3:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	case 4:
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -0.0, 1e21, 5e-324}[r.IntN(7)]
	case 5:
		return randomText(r)
	case 6:
		return r.IntN(2) == 0
	case 7:
		return int(r.Int32())
	case 8:
		return uint32(r.Uint32())
	case 9:
		f := r.Float64()
		return &f
	case 10:
		return []byte(randomText(r))
	case 11:
		return float32(r.Float32())
	case 12:
		return struct{}{} // not a field type: dropped
	}
	return nil
}

func TestMain(m *testing.M) {
	log.SetOutput(io.Discard) // the serializer logs every field it drops
	os.Exit(m.Run())
}

func TestAddFieldsWritesWhatTheShimWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var b Buffer
	for i := range 20_000 {
		name := randomText(r)
		tags, fields := map[string]string{}, map[string]any{}
		for range r.IntN(5) {
			tags[randomText(r)] = randomText(r)
		}
		for range r.IntN(4) {
			fields[randomText(r)] = randomValue(r)
		}
		at := time.Unix(0, r.Int64())
		want := serialized(t, name, fields, tags, at)
		b.Reset()
		b.AddFields(name, fields, tags, at)
		require.Equal(t, want, b.String(), "case %d: %q %q %#v", i, name, tags, fields)
		require.Equal(t, want == "", b.Dropped == 1, "case %d: dropped", i)
	}
}

func TestAddSeriesIsAddFieldsPerLine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	labels := []string{"0.000001", "0.5", "1", "+Inf", "a b", `c\`, ""}
	var b, want Buffer
	for i := range 5_000 {
		tags := map[string]string{}
		for range r.IntN(5) {
			tags[[]string{"device", "le", "op", "a", "zz", "l", "lf", randomText(r)}[r.IntN(8)]] = randomText(r)
		}
		n := r.IntN(len(labels) + 1)
		counts := make([]uint64, n)
		for j := range counts {
			counts[j] = r.Uint64() >> r.IntN(64)
		}
		name, at := []string{"m", "ebpf disk", ""}[r.IntN(3)], time.Unix(0, r.Int64())
		b.Reset()
		want.Reset()
		summary := map[string]any{}
		for range r.IntN(4) {
			summary[randomText(r)] = randomValue(r)
		}
		b.AddSeries(name, tags, "le", labels[:n], "seconds_bucket", counts, summary, at)
		for j := range counts {
			line := map[string]string{"le": labels[j]}
			for k, v := range tags {
				if k != "le" {
					line[k] = v
				}
			}
			want.AddMetric(metric.New(name, line, map[string]any{"seconds_bucket": counts[j]}, at))
		}
		delete(tags, "le")
		want.AddFields(name, summary, tags, at)
		require.Equal(t, want.String(), b.String(), "case %d: %q", i, tags)
		require.Equal(t, want.Dropped, b.Dropped, "case %d", i)
	}
}

func TestChunksHoldEveryLineWhole(t *testing.T) {
	var b Buffer
	var all strings.Builder
	fields := map[string]any{"v": uint64(1)}
	long := strings.Repeat("x", 3*chunkSize/2) // a line larger than a chunk
	for i := range 40_000 {
		tags := map[string]string{"i": strings.Repeat("y", i%97)}
		if i == 20_000 {
			tags["long"] = long
		}
		b.AddFields("m", fields, tags, time.Unix(0, int64(i)))
		all.WriteString(serialized(t, "m", fields, tags, time.Unix(0, int64(i))))
	}
	require.Greater(t, len(b.Chunks()), 2)
	for _, c := range b.Chunks() {
		require.Equal(t, byte('\n'), c[len(c)-1], "a chunk ends with a whole line")
	}
	require.Equal(t, all.String(), b.String())
	require.Equal(t, all.Len(), b.Len())

	chunks := len(b.chunks)
	b.Reset()
	b.AddFields("m", fields, nil, time.Unix(0, 7))
	require.Equal(t, "m v=1i 7\n", b.String())
	require.Len(t, b.chunks, chunks, "Reset keeps the chunks for the next gather")
}

// BenchmarkAddSeries is one histogram series: 32 bucket lines and a
// summary line.
func BenchmarkAddSeries(b *testing.B) {
	labels := make([]string, 32)
	counts := make([]uint64, 32)
	for i := range labels {
		labels[i] = strconv.FormatFloat(float64(uint64(1000)<<i)/1e9, 'f', -1, 64)
		counts[i] = uint64(max(i-4, 0) * 100)
	}
	tags := map[string]string{"device": "nvme0n1", "op": "read", "stage": "service"}
	summary := map[string]any{"seconds_sum": 1.5, "seconds_count": uint64(2100), "seconds_max": 0.02, "p50_seconds": 0.0001}
	at := time.Now()
	var buf Buffer
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			buf.Reset()
		}
		buf.AddSeries("ebpf_disk_latency", tags, "le", labels, "seconds_bucket", counts, summary, at)
	}
}
