//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Floor programs for the overhead benchmark: empty bodies on the hooks the
 * probes use. What they cost per event is the price of being attached at all
 * (trampoline or tracepoint dispatch plus the stats' own clock reads); a
 * probe's cost is reported as a ratio against the floor of its own flavour.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FLOOR(sec, name) \
	SEC(sec) int name(void *ctx) { return 0; }

/* Disk path: block_rq_insert/issue/complete in each flavour. */
FLOOR("tp_btf/block_rq_insert", floor_insert_btf)
FLOOR("tp_btf/block_rq_issue", floor_issue_btf)
FLOOR("tp_btf/block_rq_complete", floor_complete_btf)
FLOOR("raw_tp/block_rq_insert", floor_insert_raw)
FLOOR("raw_tp/block_rq_issue", floor_issue_raw)
FLOOR("raw_tp/block_rq_complete", floor_complete_raw)
FLOOR("tracepoint/block/block_rq_insert", floor_insert_tp)
FLOOR("tracepoint/block/block_rq_issue", floor_issue_tp)
FLOOR("tracepoint/block/block_rq_complete", floor_complete_tp)

/* Syscall path: raw_syscalls sys_enter/sys_exit, the syscall probe's hooks. */
FLOOR("tp_btf/sys_enter", floor_sys_enter_btf)
FLOOR("tp_btf/sys_exit", floor_sys_exit_btf)
FLOOR("raw_tp/sys_enter", floor_sys_enter_raw)
FLOOR("raw_tp/sys_exit", floor_sys_exit_raw)

/* TCP paths: the tcp probes' tracepoints (tcp_connect on
 * inet_sock_set_state, tcp_rtt's fallback on tcp_probe). */
FLOOR("tp_btf/inet_sock_set_state", floor_set_state_btf)
FLOOR("tp_btf/tcp_probe", floor_tcp_probe_btf)

/*
 * tcp_rtt's best path, sock_ops on the cgroup v2 root. An empty sock_ops
 * program would never see a round trip: the kernel calls BPF_SOCK_OPS_RTT_CB
 * only on sockets that asked for it. So the floor asks, at establishment,
 * as the probe does, and otherwise does nothing. It returns 1 like the
 * probe: 0 would turn every callback's reply into -EPERM.
 */
SEC("sockops")
int floor_sockops(struct bpf_sock_ops *skops)
{
	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ||
	    skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG);
	return 1;
}

/* Func path: an empty uprobe + uretprobe pair, attached by the harness to
 * the benchmark's own function (the func probe's flavour). */
FLOOR("uprobe", floor_uprobe)
FLOOR("uretprobe", floor_uretprobe)

/* Runq path: the runq probe's scheduler hooks (its own enqueue times:
 * wakeup, wakeup_new, switch; the scheduler's stamps: switch, migrate). */
FLOOR("tp_btf/sched_wakeup", floor_wakeup_btf)
FLOOR("tp_btf/sched_wakeup_new", floor_wakeup_new_btf)
FLOOR("tp_btf/sched_switch", floor_switch_btf)
FLOOR("tp_btf/sched_migrate_task", floor_migrate_btf)
