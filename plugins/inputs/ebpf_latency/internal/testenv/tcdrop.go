//go:build linux

package testenv

import (
	"net"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// Dropper loses packets a device receives: a tc (TCX) program of the
// test's own, counting down a budget the test sets with Drop. (On egress a
// drop is local: TCP would just send again, as no retransmission.)
type Dropper struct {
	budget *ebpf.Map
}

// Packets shorter than this pass always (bare ACKs, SYNs): only data is lost.
const dropMinLen = 200

// NewDropper attaches to device dev inside ns; it detaches at test end.
func NewDropper(t testing.TB, ns *Netns, dev string) *Dropper {
	t.Helper()
	budget, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatalf("dropper map: %v", err)
	}
	t.Cleanup(func() { budget.Close() })
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.SchedCLS,
		License: "Dual BSD/GPL",
		Instructions: asm.Instructions{
			// if (skb->len < dropMinLen) pass
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // __sk_buff.len
			asm.JLT.Imm(asm.R2, dropMinLen, "pass"),
			// budget = lookup(0); if (!budget || !*budget) pass
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, budget.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "pass"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.JEq.Imm(asm.R1, 0, "pass"),
			// (*budget)--; drop
			asm.Sub.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 2), // TCX_DROP
			asm.Return(),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("pass"), // TCX_PASS
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatalf("dropper program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	var l link.Link
	ns.Run(t, func() {
		var iface *net.Interface
		if iface, err = net.InterfaceByName(dev); err != nil {
			return
		}
		l, err = link.AttachTCX(link.TCXOptions{Interface: iface.Index, Program: prog, Attach: ebpf.AttachTCXIngress})
	})
	if err != nil {
		t.Fatalf("attaching dropper to %s: %v", dev, err)
	}
	t.Cleanup(func() { l.Close() })
	return &Dropper{budget: budget}
}

// Drop loses the next n data packets (GSO packets count as one).
func (d *Dropper) Drop(t testing.TB, n uint64) {
	t.Helper()
	if err := d.budget.Update(uint32(0), n, ebpf.UpdateAny); err != nil {
		t.Fatalf("setting drop budget: %v", err)
	}
}
