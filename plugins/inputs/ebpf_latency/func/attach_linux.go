package funcprobe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// attachFunction links function i to its return and entry programs. The
// error names binary and symbol: it is what the operator sees.
func attachFunction(coll *ebpf.Collection, kind hooks.Kind, pair programPair, i int, f Function) ([]link.Link, error) {
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
	uretprobe, uprobe := perfUprobes(exe, f.PID, i, cookie)
	if kind == hooks.UprobeMulti {
		uretprobe, uprobe = multiUprobes(exe, f.PID, i)
	}
	// Return first: an entry probe alone would only leave starts behind.
	rl, err := uretprobe(f.Symbol, ret)
	if err != nil {
		return nil, fail(explainAttach(err, kind))
	}
	el, err := uprobe(f.Symbol, entry)
	if err != nil {
		rl.Close()
		return nil, fail(explainAttach(err, kind))
	}
	return []link.Link{rl, el}, nil
}

// attacher links one program to one symbol.
type attacher func(symbol string, prog *ebpf.Program) (link.Link, error)

// perfUprobes attach through perf_event_open (CAP_SYS_ADMIN since 6.16).
func perfUprobes(exe *link.Executable, pid, i int, cookie bool) (ret, entry attacher) {
	opts := &link.UprobeOptions{PID: pid}
	if cookie {
		opts.Cookie = uint64(i)
	}
	return func(sym string, p *ebpf.Program) (link.Link, error) { return exe.Uretprobe(sym, p, opts) },
		func(sym string, p *ebpf.Program) (link.Link, error) { return exe.Uprobe(sym, p, opts) }
}

// multiUprobes attach through uprobe_multi links (CAP_BPF, CAP_PERFMON).
func multiUprobes(exe *link.Executable, pid, i int) (ret, entry attacher) {
	opts := &link.UprobeMultiOptions{PID: uint32(pid), Cookies: []uint64{uint64(i)}}
	return func(sym string, p *ebpf.Program) (link.Link, error) {
			return exe.UretprobeMulti([]string{sym}, p, opts)
		},
		func(sym string, p *ebpf.Program) (link.Link, error) { return exe.UprobeMulti([]string{sym}, p, opts) }
}

func explainAttach(err error, kind hooks.Kind) error {
	if errors.Is(err, link.ErrNoSymbol) {
		return fmt.Errorf("%w in the symbol table or dynamic symbols (misspelt, stripped, or a static function the compiler inlined?)", err)
	}
	purpose, caps := kind.Needs()
	return kernel.ExplainDenied(err, purpose, caps...)
}
