package funcprobe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// attachFunction links function i to its return and entry programs. The
// error names binary and symbol: it is what the operator sees.
func attachFunction(coll *ebpf.Collection, pair programPair, i int, f Function) ([]link.Link, error) {
	fail := func(err error) error {
		return fmt.Errorf("function %d (binary %s, symbol %s): %w", i, f.Binary, f.Symbol, err)
	}
	entryName, retName, cookie := pair(i)
	entry, ret := coll.Programs[entryName], coll.Programs[retName]
	if entry == nil || ret == nil {
		return nil, fail(fmt.Errorf("this kernel has no attach cookies (Linux 5.15+), which limits the probe to %d functions", slots))
	}
	exe, err := link.OpenExecutable(f.Binary)
	if err != nil {
		return nil, fail(err)
	}
	opts := &link.UprobeOptions{PID: f.PID}
	if cookie {
		opts.Cookie = uint64(i)
	}
	// Return first: an entry probe alone would only leave starts behind.
	rl, err := exe.Uretprobe(f.Symbol, ret, opts)
	if err != nil {
		return nil, fail(explainAttach(err))
	}
	el, err := exe.Uprobe(f.Symbol, entry, opts)
	if err != nil {
		rl.Close()
		return nil, fail(explainAttach(err))
	}
	return []link.Link{rl, el}, nil
}

func explainAttach(err error) error {
	if errors.Is(err, link.ErrNoSymbol) {
		return fmt.Errorf("%w in the symbol table or dynamic symbols (misspelt, stripped, or a static function the compiler inlined?)", err)
	}
	return kernel.ExplainLoadError(err)
}
