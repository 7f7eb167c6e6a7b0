package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinearTargetJudgesEachDecade(t *testing.T) {
	sizes := []int{100, 1_000, 10_000}
	within := linearTarget("gather", sizes, []float64{0.5, 5.5, 68})
	require.Equal(t, "gather, 100 to 10000 series", within.What)
	require.Equal(t, "×11.0, ×12.4", within.Measured)
	require.True(t, within.Met)

	steep := linearTarget("gather", sizes, []float64{0.5, 5, 65})
	require.Equal(t, "×10.0, ×13.0", steep.Measured)
	require.False(t, steep.Met, "one decade ×13 is past ×12.5")

	smoke := linearTarget("gather", []int{100}, nil)
	require.False(t, smoke.Met)
	require.Equal(t, notMeasuredInSmoke, smoke.Note)
}
