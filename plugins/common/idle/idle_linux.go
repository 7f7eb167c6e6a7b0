package idle

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Delete removes keys from m; a key already gone is not an error. A sample
// the kernel records between the walk and the delete is lost with its key:
// the series had been idle for the whole expiry time.
func Delete[K any](m *ebpf.Map, keys []K) error {
	for i := range keys {
		if err := m.Delete(&keys[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("expiring a series of %s: %w", m.String(), err)
		}
	}
	return nil
}
