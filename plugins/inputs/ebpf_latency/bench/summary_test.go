package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name   string
		in     []float64
		want   Spread
		format string
	}{
		{"empty", nil, Spread{}, "–"},
		{"one", []float64{3}, Spread{3, 3, 3, 1}, "3.0"},
		{"odd", []float64{5, 1, 3}, Spread{3, 1, 5, 3}, "3.0 (1.0–5.0)"},
		{"even", []float64{4, 1, 2, 10}, Spread{3, 1, 10, 4}, "3.0 (1.0–10.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.in)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.format, got.Format("%.1f"))
		})
	}
}
