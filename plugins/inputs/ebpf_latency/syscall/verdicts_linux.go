package syscall

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// verdicts answers the comms the kernel could not judge (general globs):
// it drains the kernel's pending map into verdict entries of the comm
// filter. Until then, their syscalls are not timed (comm_unresolved).
type verdicts struct {
	cp      *commPatterns
	pending *ebpf.Map
	filter  *ebpf.Map
	full    uint64 // verdicts the filter had no room for
}

func (v *verdicts) resolve() error {
	var (
		comm  [commLen]int8
		value uint8
		comms [][commLen]int8
	)
	it := v.pending.Iterate()
	for it.Next(&comm, &value) {
		comms = append(comms, comm)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("reading pending comms: %w", err)
	}
	var errs []error
	for _, c := range comms {
		name := commString(c)
		if err := v.filter.Update(exactKey(name), v.cp.verdict(name), ebpf.UpdateAny); err != nil {
			// Full: the comm stays pending and untimed.
			v.full++
			continue
		}
		if err := v.pending.Delete(c); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
