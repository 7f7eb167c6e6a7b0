//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcp_retransmits: retransmitted segments per peer, from
 * tcp:tcp_retransmit_skb. The tracepoint fires once per skb; a GSO skb
 * carries tcp_gso_segs segments, and that many are counted.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#define CORE_FIX_TCP_RETRANSMIT_ERR
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "tcp.h"
#include "tcp_peer.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096); /* user space sizes it */
	__type(key, struct tcp_key);
	__type(value, __u64);
} tcp_retrans_segs SEC(".maps");

static const __u64 zero;

/* Segments in skb: TCP_SKB_CB(skb)->tcp_gso_segs, at least 1. */
static __always_inline __u64 skb_segments(struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	__u16 segs = BPF_CORE_READ(cb, tcp_gso_segs);

	return segs ? segs : 1;
}

static __always_inline int on_retransmit(struct sock *sk, struct sk_buff *skb, bool btf)
{
	struct tcp_conn c;
	struct tcp_key key;
	__u64 *n, cgroup;

	if (!read_conn(sk, &c, btf) || !ports_pass(c.lport, c.rport))
		return 0;
	cgroup = sock_cgroup(sk, btf); /* retransmissions run in softirq or timers */
	if (!cgroup_wanted(cgroup))
		return 0;
	make_key(&key, &c, guess_listen_port(c.lport, c.rport), TCP_DIR_NONE, cgroup);
	n = series_value(&tcp_retrans_segs, &key, &zero);
	if (n)
		*n += skb_segments(skb);
	return 0;
}

/* A failed attempt (err != 0) retransmitted nothing: see core_fixes.bpf.h. */
SEC("tp_btf/tcp_retransmit_skb")
int tcp_retrans_btf(__u64 *ctx)
{
	if (TCP_RETRANSMIT_ERR(ctx))
		return 0;
	return on_retransmit((struct sock *)ctx[0], (struct sk_buff *)ctx[1], true);
}

SEC("raw_tp/tcp_retransmit_skb")
int tcp_retrans_raw(__u64 *ctx)
{
	if (TCP_RETRANSMIT_ERR(ctx))
		return 0;
	return on_retransmit((struct sock *)ctx[0], (struct sk_buff *)ctx[1], false);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retrans_tp(void *ctx)
{
	struct sock *sk;
	struct sk_buff *skb;
	int err;

	retransmit_record_ptrs(ctx, &sk, &skb, &err);
	if (err)
		return 0;
	return on_retransmit(sk, skb, false);
}
