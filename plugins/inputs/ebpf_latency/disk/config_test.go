package disk

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDevicesValidation(t *testing.T) {
	for _, tt := range []struct {
		devices []string
		err     string
	}{
		{[]string{"sd*", "/"}, ""},
		{[]string{"/no/such/dir/for/ebpf-latency"}, `devices: path "/no/such/dir/for/ebpf-latency": no such file or directory`},
		{[]string{"sd[a"}, `devices: bad glob "sd[a"`},
	} {
		cfg := DefaultConfig()
		cfg.Devices = tt.devices
		err := cfg.Validate()
		if tt.err == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, tt.err)
	}
}
