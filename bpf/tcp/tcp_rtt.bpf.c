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
 *
 * A sample at or above slow_threshold is also a slow event, with the peer
 * and, for sockets that connected under sock_ops, who called connect().
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "tcp.h"
#include "tcp_slow.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096); /* user space sizes it */
	__type(key, struct tcp_key);
	__type(value, struct hist);
} tcp_rtt_hists SEC(".maps");

static const struct hist empty_hist;

/* Who called connect(), kept in the socket's storage at
 * BPF_SOCK_OPS_TCP_CONNECT_CB. Slow events only; user space drops the map
 * on the tcp_probe fallback, which never knows the owner. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_owner);
} tcp_rtt_owners SEC(".maps");

/* An RTT sample as a slow event if it is one. */
static __always_inline void slow_rtt(const struct tcp_conn *c, __u64 rtt_us, const struct tcp_owner *who,
				     __u64 cgroup)
{
	slow_conn(c, rtt_us * 1000, bpf_ktime_get_ns(), who, cgroup);
}

/* Record one sample of c, charged to *cgroup, which becomes the cgroup its
 * series is keyed by (for its slow event); false when the `cgroups`
 * filter excludes it (no slow event either). */
static __always_inline bool record(const struct tcp_conn *c, __u64 rtt_us, __u64 *cgroup)
{
	struct tcp_key key;
	struct hist *h;

	if (!cgroup_wanted(*cgroup))
		return false;
	make_key(&key, c, guess_listen_port(c->lport, c->rport), TCP_DIR_NONE, *cgroup);
	h = series_value(&tcp_rtt_hists, &key, &empty_hist);
	*cgroup = key.cgroup;
	if (h)
		hist_record(h, rtt_us * 1000, hist_current_epoch());
	return true;
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
	/* The empty asm pins each load in its branch: clang would otherwise
	 * merge the two families' copies through one pointer into the
	 * context, which the verifier refuses. */
	if (skops->family == AF_INET) {
		__u32 ip4 = skops->remote_ip4;

		asm volatile("" : "+r"(ip4));
		set_v4(&c->peer, ip4);
	} else if (skops->family == AF_INET6) {
		__u32 ip6[4] = { skops->remote_ip6[0], skops->remote_ip6[1],
				 skops->remote_ip6[2], skops->remote_ip6[3] };

		asm volatile("" : "+r"(ip6[0]), "+r"(ip6[1]), "+r"(ip6[2]), "+r"(ip6[3]));
		__builtin_memcpy(c->peer.b, ip6, sizeof(ip6));
	} else {
		return false;
	}
	c->lport = skops->local_port;
	c->rport = bpf_ntohl(skops->remote_port); /* the be16 port, shifted up on little endian */
	c->ifindex = 0;
	return true;
}

/* skops->sk, read once: the verifier must see the NULL check on the very
 * register the helper gets. */
static __always_inline struct bpf_sock *sock_ops_sk(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	asm volatile("" : "+r"(sk));
	return sk;
}

/* The socket's cgroup (by_cgroup): RTT callbacks run in softirq. */
static __always_inline __u64 sock_ops_cgroup(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;
	struct tcp_sock *tp;

	if (!by_cgroup || !(sk = sock_ops_sk(skops)))
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	return tp ? sock_cgroup_id((struct sock *)tp, true) : 0;
}

static __always_inline void keep_owner(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = sock_ops_sk(skops);
	struct tcp_owner *who;

	if (!sk)
		return;
	who = bpf_sk_storage_get(&tcp_rtt_owners, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (who) /* else its events go without pid and comm */
		owner_set_current(who);
}

SEC("sockops")
int tcp_rtt_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;
	struct tcp_conn c;
	__u64 cgroup;
	__u32 rtt_us;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		if (slow_ns)
			keep_owner(skops);
		break;
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
		rtt_us = sock_ops_rtt_us(skops);
		cgroup = sock_ops_cgroup(skops);
		if (!record(&c, rtt_us, &cgroup))
			break;
		/* The owner's storage lookup only for a slow sample: most are not. */
		if (slow_wanted(rtt_us * 1000) && (sk = sock_ops_sk(skops)))
			slow_rtt(&c, rtt_us, bpf_sk_storage_get(&tcp_rtt_owners, sk, NULL, 0), cgroup);
		break;
	}
	return 1;
}

/* ---- tcp:tcp_probe fallback ---- */

static __always_inline int on_probe(struct sock *sk, bool btf)
{
	struct tcp_conn c;
	__u64 rtt_us, cgroup;

	if (!read_conn(sk, &c, btf) || !ports_pass(c.lport, c.rport))
		return 0;
	rtt_us = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3;
	cgroup = sock_cgroup(sk, btf);
	if (record(&c, rtt_us, &cgroup) && slow_ns)
		slow_rtt(&c, rtt_us, NULL, cgroup);
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

/* The socket's cgroup from a classic record; 0 (unknown) where the record
 * has no socket pointer (added in Linux 6.x). */
static __always_inline __u64 probe_record_cgroup(struct trace_event_raw_tcp_probe *ctx)
{
	if (!by_cgroup || !bpf_core_field_exists(ctx->skaddr))
		return 0;
	return sock_cgroup_id((struct sock *)BPF_CORE_READ(ctx, skaddr), false);
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
	__u64 rtt_us, cgroup;

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
	rtt_us = BPF_CORE_READ(ctx, srtt);
	cgroup = probe_record_cgroup(ctx);
	if (record(&c, rtt_us, &cgroup) && slow_ns)
		slow_rtt(&c, rtt_us, NULL, cgroup);
	return 0;
}
