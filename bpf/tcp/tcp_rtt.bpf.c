//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcp_rtt: TCP round-trip time per peer.
 *
 * Best path, sock_ops on the cgroup v2 root: connections are armed for
 * BPF_SOCK_OPS_RTT_CB when established (older ones by tcp_arm.bpf.c), and
 * the kernel calls back once per RTT window with that window's measured
 * sample (Linux 6.10+; the smoothed RTT before). Fallback, tcp:tcp_probe:
 * the smoothed RTT at every received segment, far costlier.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
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
	__type(value, struct hist);
} tcp_rtt_hists SEC(".maps");

static const struct hist empty_hist;

static __always_inline void record(const struct tcp_conn *c, __u64 rtt_us)
{
	struct tcp_key key;
	struct hist *h;

	make_key(&key, c, guess_listen_port(c->lport, c->rport), TCP_DIR_NONE);
	h = map_lookup_or_init(&tcp_rtt_hists, &key, &empty_hist);
	if (!h) {
		counter_inc(&tcp_counters, TCP_SERIES_FULL);
		return;
	}
	hist_record(h, rtt_us * 1000, hist_current_epoch());
}

/* ---- sock_ops ---- */

/* Route device of a sock_ops socket (by_interface). */
static __always_inline __u32 sock_ops_ifindex(struct bpf_sock_ops *skops)
{
	struct bpf_sock *bsk = skops->sk;
	struct tcp_sock *tp;

	if (!by_interface || !bsk)
		return 0;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp)
		return 0;
	return BPF_CORE_READ((struct sock *)tp, sk_dst_cache, dev, ifindex);
}

static __always_inline bool sock_ops_conn(struct bpf_sock_ops *skops, struct tcp_conn *c)
{
	if (skops->family == AF_INET) {
		set_v4(&c->peer, skops->remote_ip4);
	} else if (skops->family == AF_INET6) {
		__u32 ip6[4] = { skops->remote_ip6[0], skops->remote_ip6[1],
				 skops->remote_ip6[2], skops->remote_ip6[3] };

		__builtin_memcpy(c->peer.b, ip6, sizeof(ip6));
	} else {
		return false;
	}
	c->lport = skops->local_port;
	c->rport = bpf_ntohl(skops->remote_port); /* the be16 port, shifted up on little endian */
	c->ifindex = 0;
	return true;
}

SEC("sockops")
int tcp_rtt_sockops(struct bpf_sock_ops *skops)
{
	struct tcp_conn c;

	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		if (!sock_ops_conn(skops, &c) || !ports_pass(c.lport, c.rport))
			break;
		/* The set replaces all flags: keep other programs' ones. */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_RTT_CB:
		if (!sock_ops_conn(skops, &c) || !ports_pass(c.lport, c.rport))
			break;
		c.ifindex = sock_ops_ifindex(skops);
		record(&c, sock_ops_rtt_us(skops));
		break;
	}
	return 1;
}

/* ---- tcp:tcp_probe fallback ---- */

static __always_inline int on_probe(struct sock *sk, bool btf)
{
	struct tcp_conn c;

	if (!read_conn(sk, &c, btf) || !ports_pass(c.lport, c.rport))
		return 0;
	record(&c, BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3);
	return 0;
}

SEC("tp_btf/tcp_probe")
int tcp_rtt_probe_btf(__u64 *ctx)
{
	return on_probe((struct sock *)ctx[0], true);
}

SEC("raw_tp/tcp_probe")
int tcp_rtt_probe_raw(__u64 *ctx)
{
	return on_probe((struct sock *)ctx[0], false);
}

/* The classic record carries no socket pointer before 6.x: decode its
 * sockaddr copy instead (sin_family, sin_port, then the address at 4 for
 * IPv4 and 8 for IPv6). */
SEC("tracepoint/tcp/tcp_probe")
int tcp_rtt_probe_tp(struct trace_event_raw_tcp_probe *ctx)
{
	__u8 sa[28];
	__u16 family;
	struct tcp_conn c = {};

	bpf_core_read(sa, sizeof(sa), &ctx->daddr);
	__builtin_memcpy(&family, sa, 2);
	if (family == AF_INET) {
		__be32 ip;

		__builtin_memcpy(&ip, &sa[4], 4);
		set_v4(&c.peer, ip);
	} else if (family == AF_INET6) {
		__builtin_memcpy(c.peer.b, &sa[8], 16);
	} else {
		return 0;
	}
	c.lport = BPF_CORE_READ(ctx, sport);
	c.rport = BPF_CORE_READ(ctx, dport);
	if (!ports_pass(c.lport, c.rport))
		return 0;
	record(&c, BPF_CORE_READ(ctx, srtt));
	return 0;
}
