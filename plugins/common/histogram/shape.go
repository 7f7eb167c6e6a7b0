package histogram

// The words of struct hist_head (bpf/headers/histogram.h), in order.
const (
	HeadSumNs = iota
	HeadMaxNs
	HeadStamp // epoch+1 of the interval MaxNs and MinNs belong to; 0: none yet
	HeadMinNs
	headWords
)

// Shape is how a histogram map's value holds its histograms, as
// histogram.h lays it out: Lead words of the probe's own first, then the
// heads of Stages histograms, then each one's slots in turn, the scheme's
// count apiece.
type Shape struct {
	Scheme Scheme
	Lead   int // the probe's own words before the heads (disk: completions)
	Stages int // histograms per value
}

// One is the shape of a struct hist value: one histogram, nothing else.
func One(s Scheme) Shape { return Shape{Scheme: s, Stages: 1} }

// Words is the value's size in 64-bit words.
func (sh Shape) Words() int { return sh.Lead + sh.Stages*(headWords+sh.Scheme.Slots()) }

// HeadWord is the index of stage's head field (HeadSumNs...) in a value.
func (sh Shape) HeadWord(stage, field int) int { return sh.Lead + stage*headWords + field }

// SlotWord is the index of stage's slot in a value.
func (sh Shape) SlotWord(stage, slot int) int {
	return sh.Lead + sh.Stages*headWords + stage*sh.Scheme.Slots() + slot
}

// Series is one key's value on every CPU as the kernel holds it, valid
// until the callback it is passed to returns.
type Series struct {
	shape *Shape
	words []uint64 // CPUs * shape.Words()
	epoch uint64   // the interval being closed
}

// Lead is the probe's own word i summed over CPUs (disk: completions).
func (s *Series) Lead(i int) uint64 {
	var n uint64
	for v := s.words; len(v) > 0; v = v[s.shape.Words():] {
		n += v[i]
	}
	return n
}

// Merge sets iv to stage's histogram merged across CPUs. Only extremes
// stamped with the interval being closed count toward MaxNs and MinNs;
// older stamps belong to quieter intervals.
func (s *Series) Merge(stage int, iv *Interval) {
	n, head, slots := s.shape.Scheme.Slots(), s.shape.HeadWord(stage, 0), s.shape.SlotWord(stage, 0)
	clear(iv.Slots[:n]) // the scheme's slots: the rest stay zero
	iv.SumNs, iv.MaxNs, iv.MinNs, iv.Sampled = 0, 0, 0, false
	for v := s.words; len(v) > 0; v = v[s.shape.Words():] {
		for i, c := range v[slots : slots+n] {
			iv.Slots[i] += c
		}
		iv.add(v[head:head+headWords], s.epoch)
	}
}

// add merges one CPU's head into iv.
func (iv *Interval) add(h []uint64, epoch uint64) {
	iv.SumNs += h[HeadSumNs]
	if h[HeadStamp] != epoch+1 {
		return
	}
	iv.MaxNs = max(iv.MaxNs, h[HeadMaxNs])
	if !iv.Sampled || h[HeadMinNs] < iv.MinNs {
		iv.MinNs = h[HeadMinNs]
	}
	iv.Sampled = true
}
