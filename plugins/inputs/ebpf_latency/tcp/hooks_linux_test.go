package tcp

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// Every probe loads and attaches through every flavour it offers; Start
// and Stop may repeat, and Stop leaves no program behind (the sock_ops
// one sits on the root cgroup, shared by the whole host).
func TestEveryHookAttachesAndDetaches(t *testing.T) {
	testenv.RequirePrivileged(t)
	require.NoError(t, kernel.CheckPrerequisites())
	cases := map[string][]string{
		NameConnect:     {"tp_btf", "raw_tp", "tracepoint"},
		NameRetransmits: {"tp_btf", "raw_tp", "tracepoint"},
		NameRTT:         {"sock_ops", "tp_btf", "raw_tp", "tracepoint"},
	}
	for name, hooks := range cases {
		for _, hook := range hooks {
			t.Run(name+"/"+hook, func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Hook = hook
				cfg.PeerGroups = []PeerGroup{{Name: "g", CIDRs: []string{"192.0.2.0/24", "2001:db8::/32"}}}
				cfg.ByPort, cfg.ByInterface = true, true
				require.NoError(t, cfg.Validate())
				def, ok := probe.Lookup(name)
				require.True(t, ok)
				for i := 0; i < 2; i++ {
					p := def.New(cfg, testutil.Logger{})
					require.NoError(t, p.Start())
					require.Equal(t, hook, p.Status().Hook)
					var acc testutil.Accumulator
					require.NoError(t, p.Gather(&acc))
					progs := programIDs(t, baseOf(p))
					require.NoError(t, p.Stop())
					require.NoError(t, p.Stop(), "second Stop is a no-op")
					for _, id := range progs {
						// Links drop their program after an RCU grace period.
						require.Eventually(t, func() bool {
							prog, err := ebpf.NewProgramFromID(id)
							if err == nil {
								prog.Close()
							}
							return errors.Is(err, os.ErrNotExist)
						}, 5*time.Second, 10*time.Millisecond, "program %d still loaded", id)
					}
				}
			})
		}
	}
}

func baseOf(p probe.Probe) *base {
	switch v := p.(type) {
	case *connectProbe:
		return &v.base
	case *retransmitsProbe:
		return &v.base
	case *rttProbe:
		return &v.base
	}
	panic("not a TCP probe")
}

func programIDs(t *testing.T, b *base) []ebpf.ProgramID {
	t.Helper()
	var ids []ebpf.ProgramID
	for _, prog := range b.att.Collection.Programs {
		info, err := prog.Info()
		require.NoError(t, err)
		id, ok := info.ID()
		require.True(t, ok)
		ids = append(ids, id)
	}
	require.NotEmpty(t, ids)
	return ids
}
