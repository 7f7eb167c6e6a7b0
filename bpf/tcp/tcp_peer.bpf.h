/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Peer resolution shared by the TCP probes: a connection's remote address
 * becomes a series key. Addresses inside a configured group map to the
 * group (LPM trie, longest prefix wins); others are admitted one by one up
 * to max_peers (the size user space gives tcp_peers), then fold into
 * "other", each folded address counted once.
 */
#ifndef TCP_PEER_BPF_H
#define TCP_PEER_BPF_H

#include <bpf/bpf_endian.h>
#include "cgroup.bpf.h"
#include "tcp_ports.bpf.h"


/* Knobs, set by user space before load. */
const volatile bool by_port = false;
const volatile bool by_interface = false;
const volatile bool has_groups = false; /* peer_groups configured: look them up */

struct tcp_addr {
	__u8 b[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* user space: one per configured prefix */
	__type(key, struct tcp_prefix);
	__type(value, __u32);
} tcp_groups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256); /* user space: max_peers */
	__type(key, struct tcp_addr);
	__type(value, __u8);
} tcp_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tcp_addr);
	__type(value, __u8);
} tcp_folded SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCP_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} tcp_counters SEC(".maps");

/* What a probe knows about one connection. */
struct tcp_conn {
	struct tcp_addr peer;
	__u16 lport; /* host order */
	__u16 rport; /* host order */
	__u32 ifindex;
};

static __always_inline void set_v4(struct tcp_addr *a, __be32 ip)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	__builtin_memcpy(&a->b[12], &ip, 4);
}

/* Read a connection from its socket; false if not IP. btf: sk is a
 * BTF-typed pointer (tp_btf), read with plain loads instead of probe-read
 * helper calls. */
static __always_inline bool read_conn(struct sock *sk, struct tcp_conn *c, bool btf)
{
	unsigned short family = btf ? sk->__sk_common.skc_family : BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family == AF_INET)
		set_v4(&c->peer, btf ? sk->__sk_common.skc_daddr : BPF_CORE_READ(sk, __sk_common.skc_daddr));
	else if (family != AF_INET6)
		return false;
	else if (btf)
		__builtin_memcpy(&c->peer, &sk->__sk_common.skc_v6_daddr, sizeof(c->peer));
	else
		bpf_core_read(&c->peer, sizeof(c->peer), &sk->__sk_common.skc_v6_daddr);
	if (btf) {
		c->lport = sk->__sk_common.skc_num;
		c->rport = bpf_ntohs(sk->__sk_common.skc_dport);
		c->ifindex = by_interface ? sk->sk_dst_cache->dev->ifindex : 0;
		return true;
	}
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->ifindex = by_interface ? BPF_CORE_READ(sk, sk_dst_cache, dev, ifindex) : 0;
	return true;
}

/* Admit addr as a series of its own, or say it must fold. */
static __always_inline bool peer_admitted(const struct tcp_addr *addr)
{
	__u8 one = 1;

	if (map_admit(&tcp_peers, addr))
		return true;
	if (!bpf_map_update_elem(&tcp_folded, addr, &one, BPF_NOEXIST))
		counter_inc(&tcp_counters, TCP_PEERS_FOLDED);
	return false;
}

/* The listening side's port where the direction is unknown: the watched
 * one under `ports` (remote first), else the lower (servers listen below
 * the ephemeral range). */
static __always_inline __u16 guess_listen_port(__u16 lport, __u16 rport)
{
	if (filter_ports)
		return port_watched(rport) ? rport : lport;
	return rport < lport ? rport : lport;
}

/* Fill key for conn: the peer as its group, else as itself (admitted on a
 * miss, by series_value); listen_port is the port tag when by_port;
 * cgroup the id the operation is charged to (0 when by_cgroup is off). */
static __always_inline void make_key(struct tcp_key *key, const struct tcp_conn *c,
				     __u16 listen_port, __u8 direction, __u64 cgroup)
{
	struct tcp_prefix pfx = { .prefixlen = 128 };
	__u32 *group = NULL;

	__builtin_memset(key, 0, sizeof(*key));
	if (has_groups) {
		__builtin_memcpy(pfx.addr, c->peer.b, sizeof(pfx.addr));
		group = bpf_map_lookup_elem(&tcp_groups, &pfx);
	}
	if (group) {
		key->kind = TCP_PEER_GROUP;
		key->group = *group;
	} else {
		key->kind = TCP_PEER_ADDR;
		__builtin_memcpy(key->addr, c->peer.b, sizeof(key->addr));
	}
	key->port = by_port ? listen_port : 0;
	key->ifindex = c->ifindex;
	key->direction = direction;
	key->cgroup = cgroup;
}

/* A series missing for key: admit its peer under max_peers (else it
 * folds into "other") and its cgroup under max_cgroups. */
static __always_inline void series_admit(struct tcp_key *key)
{
	if (key->kind == TCP_PEER_ADDR && !peer_admitted((const struct tcp_addr *)key->addr)) {
		key->kind = TCP_PEER_OTHER;
		__builtin_memset(key->addr, 0, sizeof(key->addr));
	}
	key->cgroup = cgroup_admit(key->cgroup);
}

/*
 * The value of key's series in map, made from init on a miss. A series
 * exists only for an admitted peer and cgroup, so the usual case is one
 * lookup; a miss admits the peer under max_peers (else it folds into
 * "other") and the cgroup under max_cgroups. NULL, counted, when the map
 * is full.
 */
static __always_inline void *series_value(void *map, struct tcp_key *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	series_admit(key);
	v = map_lookup_or_init(map, key, init);
	if (!v)
		counter_inc(&tcp_counters, TCP_SERIES_FULL);
	return v;
}

/* The cgroup v2 id of a socket's operations, when by_cgroup; btf: sk is a
 * BTF pointer (plain loads). */
static __always_inline __u64 sock_cgroup(struct sock *sk, bool btf)
{
	return by_cgroup ? sock_cgroup_id(sk, btf) : 0;
}

#endif /* TCP_PEER_BPF_H */
