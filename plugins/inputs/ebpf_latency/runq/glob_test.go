package runq

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGlobsRefused(t *testing.T) {
	long := ""
	for i := 0; i < 8; i++ {
		long += "abcdefg"
	}
	for pattern, want := range map[string]string{
		"":                 `bad glob "": empty pattern`,
		"db[0-9":           `bad glob "db[0-9": unclosed [`,
		"x[z-a]":           `bad glob "x[z-a]": bad range z-a`,
		`trail\`:           `bad glob "trail\\": trailing backslash`,
		"abcdefghijklmnop": `bad glob "abcdefghijklmnop": needs 16 bytes, but a comm has at most 15`,
	} {
		_, err := compileGlobs([]string{pattern})
		require.EqualError(t, err, want)
	}
	// Nine 7-byte names need 9 * 8 = 72 states; 64 fit.
	var many []string
	for i := 0; i < 9; i++ {
		many = append(many, long[i:i+7])
	}
	_, err := compileGlobs(many[:8])
	require.NoError(t, err)
	_, err = compileGlobs(many)
	require.ErrorContains(t, err, "too long together at \""+many[8]+"\"")
}
