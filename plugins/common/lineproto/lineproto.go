// Package lineproto writes metrics as influx line protocol straight from an
// accumulator's arguments: the bytes telegraf's execd shim writes (its influx
// serializer, default settings, fields in key order), without a
// telegraf.Metric, a channel send and a write(2) per line. Under the shim a
// 10,000-series gather is 330,000 lines; built one metric at a time they
// cost about a microsecond each before a byte reached stdout.
package lineproto

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
)

// chunkSize is the unit the buffer grows by: appending to one slice would
// copy and double it, holding up to three times a gather's output at once.
const chunkSize = 1 << 20

// Buffer collects the lines of one gather in chunks of chunkSize bytes.
// Its Add methods take what telegraf.Accumulator's do.
type Buffer struct {
	// Out, when set, takes each chunk as soon as it is full (and the last
	// at Flush), giving an empty one back: the buffer then holds one chunk.
	Out    *Stream
	chunks [][]byte // filled ones, then the one being filled; kept for reuse
	cur    int      // index of the chunk being filled
	line   []byte   // the line being built, moved to a chunk when done
	rest   []byte   // AddSeries: a bucket line from its bound tag's value on
	tail   []byte   // AddSeries: " <timestamp>\n"
	value  []byte   // AddSeries: the last count written and tail
	keys   []string // scratch: sorted tag and field keys
	split  int      // AddSeries: where in line the bound tag goes
	labels escaped  // bound labels of the last AddSeries, escaped once
	// Dropped counts metrics with no field line protocol can carry (all
	// NaN or Inf, say) or without a name; the shim would stop writing.
	Dropped int
}

// Reset empties the buffer, keeping its memory for the next gather.
func (b *Buffer) Reset() {
	for i := range b.chunks {
		b.chunks[i] = b.chunks[i][:0]
	}
	b.cur, b.Dropped = 0, 0
}

// Flush hands the chunk being filled to Out, if set.
func (b *Buffer) Flush() {
	if b.Out != nil && len(b.chunks) > 0 {
		b.chunks[b.cur] = b.Out.Take(b.chunks[b.cur])
	}
}

// Chunks are the bytes written since Reset (since Flush with Out), in order.
func (b *Buffer) Chunks() [][]byte {
	if len(b.chunks) == 0 {
		return nil
	}
	return b.chunks[:b.cur+1]
}

// Len is the number of bytes written since Reset.
func (b *Buffer) Len() int {
	n := 0
	for _, c := range b.Chunks() {
		n += len(c)
	}
	return n
}

// String is everything written since Reset (for tests).
func (b *Buffer) String() string {
	var s strings.Builder
	for _, c := range b.Chunks() {
		s.Write(c)
	}
	return s.String()
}

// AddFields writes one line; fields in key order.
func (b *Buffer) AddFields(name string, fields map[string]any, tags map[string]string, t ...time.Time) {
	if !b.header(name, tags, "") {
		b.Dropped++
		return
	}
	b.fieldsLine(fields, timestamp(t))
}

// AddMetric writes m as the shim's serializer would.
func (b *Buffer) AddMetric(m telegraf.Metric) {
	b.AddFields(m.Name(), m.Fields(), m.Tags(), m.Time())
}

// AddSeries writes one histogram series: a line per label (tags and
// boundTag=labels[i], the one field bucketField=counts[i]), then the
// summary line (tags, the summary's fields), all at t. It is AddFields per
// line with what every line shares (name, tags, timestamp) built once and
// the bucket lines written straight into a chunk.
func (b *Buffer) AddSeries(name string, tags map[string]string, boundTag string, labels []string, bucketField string, counts []uint64, summary map[string]any, t time.Time) {
	if !b.header(name, tags, boundTag) {
		b.Dropped += len(counts) + 1
		return
	}
	b.bucketLines(boundTag, labels, bucketField, counts, t)
	b.fieldsLine(summary, t.UnixNano())
}

// fieldsLine ends the line header started with fields and ts, and writes it.
func (b *Buffer) fieldsLine(fields map[string]any, ts int64) {
	b.keys = b.keys[:0]
	for k := range fields {
		b.keys = append(b.keys, k)
	}
	slices.Sort(b.keys)
	written := 0
	for _, k := range b.keys {
		key := escape(k)
		if key == "" {
			continue
		}
		mark := len(b.line)
		if written > 0 {
			b.line = append(b.line, ',')
		}
		b.line = append(append(b.line, key...), '=')
		var ok bool
		if b.line, ok = b.appendValue(b.line, fields[k]); !ok {
			b.line = b.line[:mark]
			continue
		}
		written++
	}
	if written == 0 {
		b.Dropped++
		return
	}
	b.line = append(strconv.AppendInt(append(b.line, ' '), ts, 10), '\n')
	b.chunks[b.cur] = append(b.reserve(len(b.line)), b.line...)
}

// bucketLines writes the bucket lines of the series header started.
func (b *Buffer) bucketLines(boundTag string, labels []string, field string, counts []uint64, t time.Time) {
	// A line is head, ",le=<label>", rest (the tags after the bound, a
	// space, the field key and "="), then the count and the timestamp.
	head := b.line[:b.split]
	rest := append(append(append(b.rest[:0], b.line[b.split:]...), escape(field)...), '=')
	b.labels.set(escape(boundTag), labels)
	b.tail = append(strconv.AppendInt(append(b.tail[:0], ' '), t.UnixNano(), 10), '\n')
	longest := 0
	for _, l := range b.labels.out[:len(counts)] {
		longest = max(longest, len(l))
	}
	out := b.reserve((len(head) + longest + len(rest) + 20 + len(b.tail)) * len(counts))
	value := append(appendCount(b.value[:0], 0), b.tail...) // count and timestamp
	last := uint64(0)
	for i, c := range counts {
		if c != last { // cumulative counts repeat: format each value once
			value, last = append(appendCount(value[:0], c), b.tail...), c
		}
		out = append(append(append(append(out, head...), b.labels.out[i]...), rest...), value...)
	}
	b.chunks[b.cur], b.value, b.rest = out, value, rest
}

// reserve returns the chunk being filled with room for n more bytes.
func (b *Buffer) reserve(n int) []byte {
	if len(b.chunks) == 0 {
		b.chunks = append(b.chunks, make([]byte, 0, max(chunkSize, n)))
	}
	if c := b.chunks[b.cur]; len(c)+n > cap(c) && len(c) > 0 && b.Out != nil {
		b.chunks[b.cur] = b.Out.Take(c)
	} else if len(c)+n > cap(c) && len(c) > 0 {
		b.cur++
		if b.cur == len(b.chunks) {
			b.chunks = append(b.chunks, nil)
		}
	}
	if c := b.chunks[b.cur]; cap(c) < n {
		b.chunks[b.cur] = make([]byte, 0, max(chunkSize, n))
	}
	return b.chunks[b.cur]
}

// header starts b.line with the escaped name and tags, sorted by key, and a
// space; b.split is where a tag named split would go. False: no name.
func (b *Buffer) header(name string, tags map[string]string, split string) bool {
	b.line = append(b.line[:0], nameEscape(name)...)
	if len(b.line) == 0 {
		return false
	}
	b.keys = b.keys[:0]
	for k := range tags {
		if k != split {
			b.keys = append(b.keys, k)
		}
	}
	slices.Sort(b.keys)
	b.split = -1
	for _, k := range b.keys {
		if b.split < 0 && split != "" && k > split {
			b.split = len(b.line)
		}
		key, value := trimTag(escape(k)), trimTag(escape(tags[k]))
		if key == "" || value == "" {
			continue
		}
		b.line = append(append(append(append(b.line, ','), key...), '='), value...)
	}
	if b.split < 0 {
		b.split = len(b.line)
	}
	b.line = append(b.line, ' ')
	return true
}

// appendValue writes v as the serializer does; false: not writable.
func (b *Buffer) appendValue(buf []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case uint64:
		return appendCount(buf, v), true
	case int64:
		return append(strconv.AppendInt(buf, v, 10), 'i'), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return buf, false
		}
		return strconv.AppendFloat(buf, v, 'f', -1, 64), true
	case string:
		return append(append(append(buf, '"'), stringFieldEscape(v)...), '"'), true
	case bool:
		return strconv.AppendBool(buf, v), true
	}
	return b.appendRare(buf, v)
}

// appendRare converts the other types telegraf accepts (int, uint32,
// pointers...) as metric.New does, then writes the result.
func (b *Buffer) appendRare(buf []byte, v any) ([]byte, bool) {
	m := metric.New("m", nil, map[string]any{"f": v}, time.Unix(0, 0))
	converted, ok := m.GetField("f")
	if !ok {
		return buf, false
	}
	switch converted.(type) {
	case uint64, int64, float64, string, bool:
		return b.appendValue(buf, converted)
	}
	return buf, false
}

// appendCount writes an unsigned value as the serializer does without
// uint support: an integer, clamped to the largest int64.
func appendCount(buf []byte, c uint64) []byte {
	return append(strconv.AppendInt(buf, int64(min(c, math.MaxInt64)), 10), 'i')
}

func timestamp(t []time.Time) int64 {
	if len(t) > 0 {
		return t[0].UnixNano()
	}
	return time.Now().UnixNano()
}

// escaped keeps the last label slice seen as the bound tags it writes:
// ",<bound>=<label>", or nothing where the serializer would skip the tag.
type escaped struct {
	bound string
	in    []string
	out   []string
}

func (e *escaped) set(bound string, labels []string) {
	if bound == e.bound && len(labels) == len(e.in) && (len(labels) == 0 || &labels[0] == &e.in[0]) {
		return
	}
	e.bound, e.in, e.out = bound, labels, make([]string, len(labels))
	for i, l := range labels {
		if l = trimTag(escape(l)); bound != "" && l != "" {
			e.out[i] = "," + bound + "=" + l
		}
	}
}
