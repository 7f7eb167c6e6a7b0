package histogram

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/captest"
)

// A key in the hash and a row reads as one series (counts summed as over
// CPUs); a row alone is a series; an all-zero row, or one without a key,
// is none; a cleared row's series is gone at the next read.
func TestReadSeriesWithRowsMergesHashAndRows(t *testing.T) {
	captest.RequireRoot(t, "creates BPF maps")
	sh := Shape{Scheme: Log2, Lead: 1, Stages: 1}
	cpus, err := ebpf.PossibleCPU()
	require.NoError(t, err)
	newMap := func(typ ebpf.MapType, n uint32) *ebpf.Map {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: uint32(8 * sh.Words()), MaxEntries: n})
		require.NoError(t, err)
		t.Cleanup(func() { m.Close() })
		return m
	}
	hash, rowMap := newMap(ebpf.PerCPUHash, 8), newMap(ebpf.PerCPUArray, 4)
	epoch, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	require.NoError(t, err)
	t.Cleanup(func() { epoch.Close() })

	// put stores, on the last CPU, lead and n samples in slot 3 under key.
	put := func(m *ebpf.Map, key uint32, lead, n uint64) {
		v := NewValues(sh, cpus)
		w := v.Value(cpus - 1)
		w[0], w[sh.SlotWord(0, 3)], w[sh.HeadWord(0, HeadSumNs)] = lead, n, n*5000
		require.NoError(t, m.Update(key, v.PerCPU, ebpf.UpdateAny))
	}
	put(hash, 10, 2, 2)
	put(hash, 20, 1, 1)
	put(rowMap, 0, 3, 3) // key 10's row
	put(rowMap, 1, 5, 5) // key 30's, in no hash
	put(rowMap, 3, 7, 7) // a row without a key

	r, err := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"h": hash, "hist_epoch": epoch}}, "h", sh)
	require.NoError(t, err)
	keys := []uint32{10, 30, 40} // row 2 (key 40) stays zero
	rows, err := NewRows(r, rowMap, func(row uint32) (uint32, bool) {
		if int(row) < len(keys) {
			return keys[row], true
		}
		return 0, false
	})
	require.NoError(t, err)

	read := func() map[uint32][3]uint64 { // key -> lead, samples, sum
		got := map[uint32][3]uint64{}
		var iv Interval
		require.NoError(t, ReadSeriesWithRows(r, rows, func(k *uint32, s *Series) {
			_, dup := got[*k]
			require.False(t, dup, "key %d read twice", *k)
			s.Merge(0, &iv)
			got[*k] = [3]uint64{s.Lead(0), iv.Count(), iv.SumNs}
		}))
		return got
	}
	require.Equal(t, map[uint32][3]uint64{10: {5, 5, 25000}, 20: {1, 1, 5000}, 30: {5, 5, 25000}}, read())
	require.True(t, rows.Held(0))
	require.True(t, rows.Held(1))
	require.False(t, rows.Held(2), "an all-zero row holds no series")
	require.False(t, rows.Held(3), "a row without a key holds no series")

	require.NoError(t, rows.Clear(1))
	require.Equal(t, map[uint32][3]uint64{10: {5, 5, 25000}, 20: {1, 1, 5000}}, read())
	require.False(t, rows.Held(1))
}
