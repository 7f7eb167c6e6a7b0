package ebpf_latency

import "testing"

// Every table that has the slow-event and cgroup keys (each probe table and
// a [[functions]] entry) refuses the same bad values with one line naming
// the key and the value: the keys are shared code, but each table is wired
// to it on its own.
func TestSlowAndCgroupBadInputEveryTable(t *testing.T) {
	tables := map[string]string{
		"inputs.ebpf_latency.disk":    "[[inputs.ebpf_latency]]\nprobes = [\"disk\"]\n[inputs.ebpf_latency.disk]\n",
		"inputs.ebpf_latency.tcp":     "[[inputs.ebpf_latency]]\nprobes = [\"tcp_connect\"]\n[inputs.ebpf_latency.tcp]\n",
		"inputs.ebpf_latency.syscall": "[[inputs.ebpf_latency]]\nprobes = [\"syscall\"]\n[inputs.ebpf_latency.syscall]\n",
		"inputs.ebpf_latency.runq":    "[[inputs.ebpf_latency]]\nprobes = [\"runq\"]\n[inputs.ebpf_latency.runq]\n",
		"inputs.ebpf_latency.functions[0]": "[[inputs.ebpf_latency]]\nprobes = [\"func\"]\n" +
			"[[inputs.ebpf_latency.functions]]\nbinary = \"/bin/sh\"\nsymbol = \"main\"\n",
	}
	for table, head := range tables {
		t.Run(table, func(t *testing.T) {
			requireOneLineErrors(t, head, map[string]string{
				`slow_threshold = "fast"`:               table + `.slow_threshold: "fast" is not a duration`,
				`slow_threshold = "50"`:                 table + `.slow_threshold: "50" is not a duration`,
				`slow_threshold = "0s"`:                 table + `.slow_threshold: "0s" must be positive`,
				`slow_events_per_second = -5`:           table + `.slow_events_per_second: -5 is out of range`,
				"by_cgroup = true\ncgroups = [\"db[\"]": table + `.cgroups: bad glob "db[": unexpected end of input`,
				`cgroups = ["db*"]`:                     table + `.cgroups: ["db*"] needs by_cgroup = true`,
				"by_cgroup = true\nmax_cgroups = -3":    table + `.max_cgroups: -3 out of range (want 1 to 4096)`,
				"by_cgroup = true\nmax_cgroups = 0":     table + `.max_cgroups: 0 out of range (want 1 to 4096)`,
				"by_cgroup = true\nmax_cgroups = 5000":  table + `.max_cgroups: 5000 out of range (want 1 to 4096)`,
			})
		})
	}
}
