package histogram

import "unsafe"

// Values are n per-CPU values of one shape built in user space, for
// benchmarks and tests that fill a histogram map themselves.
type Values struct {
	Shape Shape
	// Words holds every value in turn, each shape.Words() long.
	Words []uint64
	// PerCPU is each value of Words as bytes, what a per-CPU map update
	// takes: pass PerCPU[i*cpus:(i+1)*cpus] for key i, or all of it to a
	// batch update. It shares Words' memory.
	PerCPU [][]byte
}

// NewValues makes n zeroed values of shape.
func NewValues(shape Shape, n int) *Values {
	w := shape.Words()
	v := &Values{Shape: shape, Words: make([]uint64, n*w), PerCPU: make([][]byte, n)}
	for i := range v.PerCPU {
		v.PerCPU[i] = unsafe.Slice((*byte)(unsafe.Pointer(&v.Words[i*w])), 8*w)
	}
	return v
}

// Value is the i-th value's words.
func (v *Values) Value(i int) []uint64 {
	w := v.Shape.Words()
	return v.Words[i*w : (i+1)*w]
}
