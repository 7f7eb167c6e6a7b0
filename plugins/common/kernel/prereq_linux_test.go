package kernel

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTracepointArgs(t *testing.T) {
	if _, err := os.Stat(BTFPath); err != nil {
		t.Skip("no kernel BTF")
	}
	n, err := TracepointArgs("block_rq_complete")
	require.NoError(t, err)
	require.Equal(t, 3, n, "block_rq_complete(rq, error, nr_bytes)")
	_, err = TracepointArgs("no_such_tracepoint")
	require.Error(t, err)
	require.True(t, StructHasMember("request", "cmd_flags"))
	require.False(t, StructHasMember("request", "no_such_member"))
}
