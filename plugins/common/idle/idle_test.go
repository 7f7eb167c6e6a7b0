package idle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSeriesExpireAfterNoNewSample(t *testing.T) {
	s := NewSeries[string](time.Minute)
	t0 := time.Unix(1000, 0)
	require.True(t, s.Keep("a", 1, t0))
	require.True(t, s.Keep("b", 1, t0))
	require.Empty(t, s.Sweep())

	require.True(t, s.Keep("a", 1, t0.Add(59*time.Second)), "idle, not yet long enough")
	require.True(t, s.Keep("b", 2, t0.Add(59*time.Second)), "a new sample restarts the clock")
	require.Empty(t, s.Sweep())

	require.False(t, s.Keep("a", 1, t0.Add(61*time.Second)))
	require.True(t, s.Keep("b", 2, t0.Add(61*time.Second)))
	require.Equal(t, []string{"a"}, s.Sweep())

	// Back from zero after its kernel key was deleted: a new series.
	require.True(t, s.Keep("a", 1, t0.Add(200*time.Second)))
	require.False(t, s.Keep("b", 2, t0.Add(200*time.Second)))
	require.Equal(t, []string{"b"}, s.Sweep())
}

func TestSeriesNeverExpireWithZero(t *testing.T) {
	s := NewSeries[string](0)
	require.True(t, s.Keep("a", 1, time.Unix(0, 0)))
	require.True(t, s.Keep("a", 1, time.Unix(1<<40, 0)))
	require.Empty(t, s.Sweep())
}

func TestSeriesForgetKeysNotWalked(t *testing.T) {
	s := NewSeries[string](time.Minute)
	t0 := time.Unix(1000, 0)
	s.Keep("gone", 1, t0)
	s.Sweep()
	s.Sweep() // a walk that did not see it: forgotten
	require.True(t, s.Keep("gone", 1, t0.Add(time.Hour)), "seen anew: its clock starts now")
}

func TestNilSeriesKeepsEverything(t *testing.T) {
	var s *Series[string]
	require.True(t, s.Keep("a", 1, time.Unix(0, 0)))
	require.Empty(t, s.Sweep())
}
