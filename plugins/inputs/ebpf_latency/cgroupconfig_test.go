package ebpf_latency

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The cgroup keys decode in a probe's table, and a bad value is one line
// naming the key and the value.
func TestCgroupKeys(t *testing.T) {
	const head = "[[inputs.ebpf_latency]]\nprobes = [\"syscall\"]\n[inputs.ebpf_latency.syscall]\n"
	_, err := parse([]byte(head + "by_cgroup = true\ncgroups = [\"postgresql@*\", \"/system.slice/*\"]\nmax_cgroups = 8\n"))
	require.NoError(t, err)
	requireOneLineErrors(t, head, map[string]string{
		"by_cgroup = true\ncgroups = [\"pg[sql\"]": `inputs.ebpf_latency.syscall.cgroups: bad glob "pg[sql": unexpected end of input`,
		"by_cgroup = true\ncgroups = [\"\"]":       `inputs.ebpf_latency.syscall.cgroups: empty pattern`,
		`cgroups = ["a*"]`:                         `inputs.ebpf_latency.syscall.cgroups: ["a*"] needs by_cgroup = true`,
		`max_cgroups = -1`:                         `inputs.ebpf_latency.syscall.max_cgroups: -1 out of range (want 1 to 4096)`,
		`max_cgroups = 0`:                          `inputs.ebpf_latency.syscall.max_cgroups: 0 out of range (want 1 to 4096)`,
		`by_cgroup = "yes"`:                        `inputs.ebpf_latency.syscall.by_cgroup: wrong type: "yes" is a string, want true or false`,
		`max_cgroups = "64"`:                       `inputs.ebpf_latency.syscall.max_cgroups: wrong type: "64" is a string, want an integer`,
		`cgroups = "a*"`:                           `inputs.ebpf_latency.syscall.cgroups: wrong type: "a*" is a string, want a list`,
		`by_cgroups = true`:                        `inputs.ebpf_latency.syscall.by_cgroups: unknown key`,
	})
}
