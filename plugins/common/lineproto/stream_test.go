package lineproto

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gate is a writer that blocks until opened.
type gate struct {
	open chan struct{}
	out  strings.Builder
	err  error
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.out.Write(p)
	return len(p), g.err
}

func TestStreamWritesInOrderWithoutBlockingTheWriter(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	b := Buffer{Out: NewStream(g)}
	var want strings.Builder
	fields := map[string]any{"v": uint64(1)}
	for i := range 30_000 { // several chunks, all taken while the writer is stuck
		tags := map[string]string{"i": strings.Repeat("x", 1+i%50)}
		b.AddFields("m", fields, tags, time.Unix(0, int64(i)))
		want.WriteString("m,i=" + strings.Repeat("x", 1+i%50) + " v=1i " + strconv.Itoa(i) + "\n")
	}
	b.Flush()
	require.Empty(t, b.String(), "every chunk handed to the stream")
	close(g.open)
	require.NoError(t, b.Out.Wait())
	require.Equal(t, want.String(), g.out.String())

	b.Reset() // the next gather reuses written chunks
	b.AddFields("m", fields, nil, time.Unix(0, 1))
	b.Flush()
	require.NoError(t, b.Out.Wait())
	require.True(t, strings.HasSuffix(g.out.String(), "\nm v=1i 1\n"))
}

func TestStreamWaitReportsTheWriteError(t *testing.T) {
	g := &gate{open: make(chan struct{}), err: errors.New("broken pipe")}
	close(g.open)
	s := NewStream(g)
	s.Take([]byte("a\n"))
	s.Take([]byte("b\n"))
	require.EqualError(t, s.Wait(), "broken pipe")
	require.Equal(t, "a\n", g.out.String(), "nothing written after the error")
}
