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
 *
 * A series' histogram lives in a slot of a per-CPU array; tcp_rtt_series
 * maps its key to the slot. Under sock_ops a socket keeps its series' slot
 * in its own storage after its first sample, so a round trip costs a
 * storage lookup and an array index instead of building and hashing the
 * 40-byte key (docs/benchmarks.md, "tcp_rtt: series slot in socket
 * storage"). User space frees a slot when its series expires: it deletes
 * the key, bumps the slot's generation (which voids every socket's copy),
 * and zeroes and returns the slot one gather later.
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

/* Every map of slots has as many entries as tcp_rtt_hists: user space sizes them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct hist);
} tcp_rtt_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tcp_key);
	__type(value, struct tcp_slot);
} tcp_rtt_series SEC(".maps");

/* Bumped by user space when it frees the slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} tcp_rtt_gens SEC(".maps");

/* Free slots, zeroed; user space fills it with every slot at start. A
 * stack: the slot freed last, still in cache, is taken first. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 4096);
	__type(value, __u32);
} tcp_rtt_free SEC(".maps");

/* A socket's series (sock_ops). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_slot);
} tcp_rtt_cache SEC(".maps");

/* Off: every sample builds and looks up its key (the harness compares). */
const volatile bool cache_series = true;

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

/*
 * The slot of key's series, given one on a miss: the peer and cgroup are
 * admitted (or folded) as series_value does, then a free slot is taken.
 * NULL, counted, when no slot is free.
 */
static __always_inline struct tcp_slot *series_slot(struct tcp_key *key)
{
	struct tcp_slot *s = bpf_map_lookup_elem(&tcp_rtt_series, key);
	struct tcp_slot fresh;
	__u32 *gen;

	if (s)
		return s;
	series_admit(key);
	s = bpf_map_lookup_elem(&tcp_rtt_series, key);
	if (s)
		return s;
	if (bpf_map_pop_elem(&tcp_rtt_free, &fresh.slot))
		goto full;
	gen = bpf_map_lookup_elem(&tcp_rtt_gens, &fresh.slot);
	fresh.gen = gen ? *gen : 0;
	/* EEXIST: another CPU made the series meanwhile; the slot goes back. */
	if (bpf_map_update_elem(&tcp_rtt_series, key, &fresh, BPF_NOEXIST))
		bpf_map_push_elem(&tcp_rtt_free, &fresh.slot, 0);
	s = bpf_map_lookup_elem(&tcp_rtt_series, key);
	if (s)
		return s;
full:
	counter_inc(&tcp_counters, TCP_SERIES_FULL);
	return NULL;
}

static __always_inline void record_slot(__u32 slot, __u64 rtt_us)
{
	struct hist *h = bpf_map_lookup_elem(&tcp_rtt_hists, &slot);

	if (h)
		hist_record(h, rtt_us * 1000, hist_current_epoch());
}

/* Record one sample of c, charged to *cgroup, which becomes the cgroup its
 * series is keyed by (for its slow event); false when the `cgroups`
 * filter excludes it (no slow event either). *kept: the series' slot, when
 * a socket may keep it (neither peer nor cgroup folded: those are looked
 * up, and may be admitted, at every sample). */
static __always_inline bool record(const struct tcp_conn *c, __u64 rtt_us, __u64 *cgroup, struct tcp_slot **kept)
{
	struct tcp_key key;
	struct tcp_slot *s;

	*kept = NULL;
	if (!cgroup_wanted(*cgroup))
		return false;
	make_key(&key, c, guess_listen_port(c->lport, c->rport), TCP_DIR_NONE, *cgroup);
	s = series_slot(&key);
	if (key.cgroup == *cgroup && key.kind != TCP_PEER_OTHER)
		*kept = s;
	*cgroup = key.cgroup;
	if (s)
		record_slot(s->slot, rtt_us);
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

/*
 * Whether a socket may keep its series' slot: not where a sample's series
 * can change under it (by_interface: the route's device; `cgroups`: an
 * exclusion user space adds later).
 */
static __always_inline bool slot_keepable(void)
{
	return cache_series && !by_interface && !filter_cgroups;
}

/* Record into the slot the socket kept, if it still holds its series. */
static __always_inline bool record_kept(struct bpf_sock_ops *skops, __u32 rtt_us)
{
	struct bpf_sock *sk;
	struct tcp_slot *kept;
	__u32 *gen;

	if (!slot_keepable() || !(sk = sock_ops_sk(skops)))
		return false;
	kept = bpf_sk_storage_get(&tcp_rtt_cache, sk, NULL, 0);
	if (!kept)
		return false;
	gen = bpf_map_lookup_elem(&tcp_rtt_gens, &kept->slot);
	if (!gen || *gen != kept->gen)
		return false; /* freed since: the next sample finds its series anew */
	record_slot(kept->slot, rtt_us);
	return true;
}

/* Keep the slot in the socket's storage; without storage (allocation
 * failed) the socket's samples keep taking the key's way. */
static __always_inline void keep_slot(struct bpf_sock_ops *skops, const struct tcp_slot *slot)
{
	struct bpf_sock *sk;
	struct tcp_slot *kept;

	if (!slot_keepable() || !slot || !(sk = sock_ops_sk(skops)))
		return;
	kept = bpf_sk_storage_get(&tcp_rtt_cache, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (kept)
		*kept = *slot;
}

SEC("sockops")
int tcp_rtt_sockops(struct bpf_sock_ops *skops)
{
	struct tcp_slot *kept;
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
		rtt_us = sock_ops_rtt_us(skops);
		if (record_kept(skops, rtt_us)) {
			/* The connection only for a slow event; a kept series is
			 * neither folded nor filtered, so its cgroup is the socket's. */
			if (!slow_wanted(rtt_us * 1000) || !sock_ops_conn(skops, &c))
				break;
			cgroup = sock_ops_cgroup(skops);
		} else {
			if (!sock_ops_conn(skops, &c) || !ports_pass(c.lport, c.rport))
				break;
			c.ifindex = sock_ops_ifindex(skops);
			cgroup = sock_ops_cgroup(skops);
			if (!record(&c, rtt_us, &cgroup, &kept))
				break;
			keep_slot(skops, kept);
		}
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
	struct tcp_slot *kept;
	struct tcp_conn c;
	__u64 rtt_us, cgroup;

	if (!read_conn(sk, &c, btf) || !ports_pass(c.lport, c.rport))
		return 0;
	rtt_us = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3;
	cgroup = sock_cgroup(sk, btf);
	if (record(&c, rtt_us, &cgroup, &kept) && slow_ns)
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
	struct tcp_slot *kept;
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
	if (record(&c, rtt_us, &cgroup, &kept) && slow_ns)
		slow_rtt(&c, rtt_us, NULL, cgroup);
	return 0;
}
