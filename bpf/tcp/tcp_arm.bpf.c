//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Arms connections that were established before tcp_rtt attached: sock_ops
 * arms new ones at establishment, but the kernel calls no sock_ops program
 * for an old connection until it is armed. User space runs this iterator
 * once per network namespace at start. bpf_setsockopt may set the callback
 * flags from an iterator since Linux 6.12 (TCP_BPF_SOCK_OPS_CB_FLAGS);
 * earlier kernels refuse, and the refusals are counted.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"
#include "tcp.h"
#include "tcp_ports.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCP_ARM_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} tcp_arm_counters SEC(".maps");

SEC("iter/tcp")
int tcp_arm(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	int flags;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* listening, time-wait or request socket */
	if (((struct sock *)tp)->__sk_common.skc_state != TCP_ESTABLISHED)
		return 0;
	if (!ports_pass(skc->skc_num, bpf_ntohs(skc->skc_dport)))
		return 0;
	flags = tp->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG;
	if (bpf_setsockopt(tp, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags)))
		counter_inc(&tcp_arm_counters, TCP_ARM_FAILED);
	else
		counter_inc(&tcp_arm_counters, TCP_ARMED);
	return 0;
}
