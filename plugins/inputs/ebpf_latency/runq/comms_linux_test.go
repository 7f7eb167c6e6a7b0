package runq

import (
	"fmt"
	"testing"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/internal/testenv"
	"github.com/stretchr/testify/require"
)

// 40 exact names (well past the automaton's 64 states, which they do not
// take) and a nested brace pattern: each matching task's series holds its
// switch-ins as the scheduler counted them, and a task the braces leave
// out has none.
func TestManyExactNamesAndBraces(t *testing.T) {
	testenv.RequirePrivileged(t)
	eachFlavour(t, func(t *testing.T, fl flavour) {
		const rounds = 30
		cpu := testCPU(t)
		tag := uniqueComm("x")[2:] // four hex digits of this run
		exact, braced, left := "ebpf-exact"+tag, "ebpf-brb"+tag, "ebpf-brc"+tag
		var comms []string
		for i := 0; i < 38; i++ {
			comms = append(comms, fmt.Sprintf("ebpf-n%02d%s", i, tag))
		}
		comms = append(comms, exact, "ebpf-last"+tag, "ebpf-{bx,br{a,b}}"+tag)
		servers := map[string]*server{}
		for _, comm := range []string{exact, braced, left} {
			servers[comm] = startServer(t, comm, cpu, 1000)
		}
		cfg := DefaultConfig()
		cfg.Comms = comms
		p := startProbe(t, fl.pin(cfg))

		switchIns, untimedIn := map[string]uint64{}, map[string]uint64{}
		for comm, s := range servers {
			s0, u0 := s.switchIns(t), untimed(p)
			s.sleep(t, rounds)
			switchIns[comm], untimedIn[comm] = s.switchIns(t)-s0, untimed(p)-u0
		}
		acc := gather(t, p)
		require.Equal(t, map[string]bool{exact: true, braced: true}, commsSeen(acc), "%s is outside the braces", left)
		for _, comm := range []string{exact, braced} {
			s, ok := findSeries(acc, map[string]string{TagComm: comm})
			require.True(t, ok, comm)
			require.Positive(t, switchIns[comm], comm)
			requireSwitchIns(t, p, s, switchIns[comm], untimedIn[comm])
		}
	})
}
