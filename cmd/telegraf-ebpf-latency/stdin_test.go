package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Each line becomes one short line, however long it is: bufio.Scanner (the
// shim's reader) stops at 64 KiB.
func TestFoldLines(t *testing.T) {
	tests := []struct {
		name, in string
		lines    int
	}{
		{"empty", "", 0},
		{"one newline", "\n", 1},
		{"short lines", "a\nbb\n\n", 3},
		{"last line without newline", "a\nb", 2},
		{"64 KiB line", strings.Repeat("x", 65536) + "\n", 1},
		{"1 MiB line between short ones", "a\n" + strings.Repeat("x", 1<<20) + "\nb\n", 3},
		{"long last line without newline", "\n" + strings.Repeat("x", 100_000), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, foldLines(strings.NewReader(tt.in), &out))
			require.Equal(t, strings.Repeat("\n", tt.lines), out.String())
		})
	}
}
