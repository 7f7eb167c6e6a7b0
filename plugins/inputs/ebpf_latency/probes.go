package ebpf_latency

// The probes this plugin can run: each registers itself from its init.
// Adding a probe means adding its package and one line here.
import (
	_ "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/disk"
	_ "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/func"
	_ "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/runq"
	_ "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/syscall"
	_ "github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/tcp"
)
