package hooks

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"

	diskbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/disk"
)

func requireRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("EBPF_LATENCY_REQUIRE_PRIVILEGED") == "1" {
		t.Fatal("needs root: loads eBPF programs")
	}
	t.Skip("needs root: loads eBPF programs")
}

// A flavour that cannot attach hands over to the next, and the reason is kept.
func TestAttachFallsBackAndSaysWhy(t *testing.T) {
	requireRoot(t)
	spec, err := diskbpf.LoadDisk()
	require.NoError(t, err)
	flavours := []Flavour{
		{Kind: TPBTF, Hooks: []Hook{{Program: diskbpf.DiskProgDiskCompleteBtf, Event: "block_rq_complete"}}},
		{Kind: RawTP, Hooks: []Hook{{Program: diskbpf.DiskProgDiskCompleteRaw, Group: "block", Event: "block_rq_complete"}}},
	}
	// Aim tp_btf at an event this kernel lacks: the load is refused.
	prepare := func(spec *ebpf.CollectionSpec, kind Kind) error {
		if kind == TPBTF {
			spec.Programs[diskbpf.DiskProgDiskCompleteBtf].AttachTo = "no_such_event"
		}
		return nil
	}
	att, err := Attach(spec, flavours, Options{Prepare: prepare})
	require.NoError(t, err)
	defer att.Close()
	require.Equal(t, RawTP, att.Kind)
	require.Len(t, att.Passed, 1)
	require.Equal(t, TPBTF, att.Passed[0].Kind)
	require.Contains(t, att.Passed[0].Err.Error(), "no_such_event")
	require.Len(t, att.Collection.Programs, 1, "the losers' programs were dropped before load")
}

func TestAttachReportsEveryFlavourWhenAllFail(t *testing.T) {
	requireRoot(t)
	spec, err := diskbpf.LoadDisk()
	require.NoError(t, err)
	flavours := []Flavour{
		{Kind: RawTP, Hooks: []Hook{{Program: diskbpf.DiskProgDiskCompleteRaw, Event: "no_such_event"}}},
		{Kind: Tracepoint, Hooks: []Hook{{Program: diskbpf.DiskProgDiskCompleteTp, Group: "block", Event: "no_such_event"}}},
	}
	_, err = Attach(spec, flavours, Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "raw_tp: ")
	require.Contains(t, err.Error(), "; tracepoint: ")
}

func TestPinSkipsOtherFlavours(t *testing.T) {
	requireRoot(t)
	spec, err := diskbpf.LoadDisk()
	require.NoError(t, err)
	pin := Tracepoint
	flavours := []Flavour{
		{Kind: RawTP, Hooks: []Hook{{Program: diskbpf.DiskProgDiskCompleteRaw, Event: "block_rq_complete"}}},
		{Kind: Tracepoint, Hooks: []Hook{{Program: diskbpf.DiskProgDiskCompleteTp, Group: "block", Event: "block_rq_complete"}}},
	}
	att, err := Attach(spec, flavours, Options{Pin: &pin})
	require.NoError(t, err)
	defer att.Close()
	require.Equal(t, Tracepoint, att.Kind)
	require.Empty(t, att.Passed)
}

func TestParsePin(t *testing.T) {
	k, err := ParsePin("auto", TPBTF, RawTP)
	require.NoError(t, err)
	require.Nil(t, k)
	k, err = ParsePin("raw_tp", TPBTF, RawTP)
	require.NoError(t, err)
	require.Equal(t, RawTP, *k)
	_, err = ParsePin("tracepoint", TPBTF, RawTP)
	require.EqualError(t, err, `unknown hook "tracepoint" (want "auto", "tp_btf", "raw_tp")`)
}
