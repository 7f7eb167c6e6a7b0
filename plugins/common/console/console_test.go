package console

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var inf = math.Inf(1)

func TestWriteHistogramLog2(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteHistogram(&b, Histogram{
		Upper:  []float64{1e-6, 2e-6, 4e-6, 8e-6, 16e-6, inf},
		Counts: []uint64{0, 3, 10, 0, 5, 0},
	}))
	require.Equal(t, ""+
		"     usecs               : count    distribution\n"+
		"         1 -> 2          : 3        |************                            |\n"+
		"         2 -> 4          : 10       |****************************************|\n"+
		"         4 -> 8          : 0        |                                        |\n"+
		"         8 -> 16         : 5        |********************                    |\n",
		b.String())
}

func TestWriteHistogramFractionsAndInf(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteHistogram(&b, Histogram{
		Upper:  []float64{1e-6, 1.25e-6, 1.5e-6, 1073.741824, inf},
		Counts: []uint64{0, 1, 4, 0, 2},
	}))
	require.Equal(t, ""+
		"     usecs               : count    distribution\n"+
		"         1 -> 1.25       : 1        |**********                              |\n"+
		"      1.25 -> 1.5        : 4        |****************************************|\n"+
		"       1.5 -> 1073741824 : 0        |                                        |\n"+
		"1073741824 -> inf        : 2        |********************                    |\n",
		b.String())
}

func TestWriteHistogramEmpty(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteHistogram(&b, Histogram{Upper: []float64{1e-6, inf}, Counts: []uint64{0, 0}}))
	require.Empty(t, b.String())
}

// Four intervals into a window of three: the oldest scrolls out, rows span
// the buckets the window reached, shades scale to the window's largest
// count (18: 18 is '@', 9 is '+', 2 and 1 are '.').
func TestHeatmapScrolls(t *testing.T) {
	m := &Heatmap{Width: 3}
	upper := []float64{1e-6, 2e-6, 4e-6, inf}
	for _, counts := range [][]uint64{
		{40, 0, 0, 0}, // scrolls out: its first-bucket row goes too
		{0, 2, 0, 0},
		{0, 9, 1, 0},
		{0, 0, 0, 18},
	} {
		m.Add(Histogram{Upper: upper, Counts: counts})
	}
	var b strings.Builder
	require.NoError(t, m.Write(&b))
	require.Equal(t, ""+
		"     usecs  last 3 intervals, shades \".:-=+*#%@\" up to 18\n"+
		"       inf |  @\n"+
		"         4 | . \n"+
		"         2 |.+ \n"+
		"           +---\n",
		b.String())
}

func TestHeatmapIdleWindowDrawsNothing(t *testing.T) {
	m := &Heatmap{Width: 2}
	m.Add(Histogram{Upper: []float64{1e-6, inf}, Counts: []uint64{0, 0}})
	var b strings.Builder
	require.NoError(t, m.Write(&b))
	require.Empty(t, b.String())
}
