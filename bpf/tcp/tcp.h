/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types the TCP probes share with user space (bpf2go turns them into Go). */
#ifndef TCP_H
#define TCP_H

#include "histogram.h"

enum tcp_peer_kind {
	TCP_PEER_ADDR,  /* one remote address, admitted under max_peers */
	TCP_PEER_GROUP, /* a configured peer group (longest prefix wins) */
	TCP_PEER_OTHER, /* addresses folded once max_peers were admitted */
};

enum tcp_direction {
	TCP_DIR_NONE,
	TCP_DIR_ACTIVE,  /* we connected */
	TCP_DIR_PASSIVE, /* we accepted */
};

/* One series of every TCP measurement. */
struct tcp_key {
	__u8 addr[16];  /* TCP_PEER_ADDR: the peer, IPv4 as ::ffff:a.b.c.d; else zero */
	__u64 cgroup;   /* by_cgroup: cgroup v2 id (cgroup.bpf.h); else 0 */
	__u32 group;    /* TCP_PEER_GROUP: index into peer_groups */
	__u32 ifindex;  /* by_interface: device of the socket's route; else 0 */
	__u16 port;     /* by_port: the listening side's port; else 0 */
	__u8 kind;      /* enum tcp_peer_kind */
	__u8 direction; /* enum tcp_direction (tcp_connect only) */
};

/* Where a series' histogram lives (tcp_rtt): its slot in the per-CPU
 * array, and the slot's generation when the series took it. */
struct tcp_slot {
	__u32 slot;
	__u32 gen;
};

/* LPM trie key of the peer groups: prefixlen counts bits of addr. */
struct tcp_prefix {
	__u32 prefixlen;
	__u8 addr[16];
};

enum tcp_counter {
	TCP_PEERS_FOLDED,  /* distinct addresses folded into peer "other" */
	TCP_SERIES_FULL,   /* events lost: series map full */
	TCP_INFLIGHT_FULL, /* connects not timed: their start could not be kept */
	TCP_UNTIMED,       /* passive opens without an RTT sample */
	TCP_ACTIVE_UNTIMED, /* connects ended without a start: evicted, or begun before attach */
	TCP_COUNTERS,
};

/* Counters of the iterator that arms existing connections (tcp_rtt). */
enum tcp_arm_counter {
	TCP_ARMED,      /* established connections armed at start */
	TCP_ARM_FAILED, /* connections the kernel refused to arm (before 6.12) */
	TCP_ARM_COUNTERS,
};

#endif /* TCP_H */
