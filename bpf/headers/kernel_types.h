/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few kernel types our programs read, written by hand instead of a
 * multi-megabyte vmlinux.h. Every struct carries preserve_access_index, so
 * field offsets are relocated against the running kernel's BTF at load time
 * (CO-RE): only the fields named here must exist, in any order.
 */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u32 u32;
typedef __u64 u64;
typedef __u32 dev_t;
typedef __u64 sector_t;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
};

/* BPF_MAP_UPDATE_ELEM flags (include/uapi/linux/bpf.h). */
#define BPF_ANY 0
#define BPF_NOEXIST 1

/* include/linux/blkdev.h */
struct gendisk {
	int major;
	int first_minor;
} __attribute__((preserve_access_index));

struct request_queue {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request {
	struct request_queue *q;
	unsigned int cmd_flags;
	unsigned int rq_flags;
	unsigned int __data_len;
	sector_t __sector;
	__u64 start_time_ns;
	__u64 io_start_time_ns;
} __attribute__((preserve_access_index));

/* include/linux/blk_types.h: bit numbers moved between releases, so they
 * are read through bpf_core_enum_value, never hard-coded. */
enum req_flag_bits {
	__REQ_SYNC,
	__REQ_FUA,
	__REQ_PREFLUSH,
};

/* include/linux/blk-mq.h: an enum since Linux 6.8 (before: #defines). */
enum rqf_flags {
	__RQF_IO_STAT,
};

/* include/trace/events/block.h, the classic tracepoint records. */
struct trace_entry {
	unsigned short type;
} __attribute__((preserve_access_index));

struct trace_event_raw_block_rq {
	struct trace_entry ent;
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
	char rwbs[8];
} __attribute__((preserve_access_index));

struct trace_event_raw_block_rq_completion {
	struct trace_entry ent;
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
	char rwbs[8];
} __attribute__((preserve_access_index));

/* arch/x86/include/asm/ptrace.h; on arm64 `sp` sits in an anonymous
 * member of the same name, which CO-RE finds too. The context of uprobe
 * programs: the traced thread's user registers. */
struct pt_regs {
	unsigned long sp;
} __attribute__((preserve_access_index));

/* include/linux/sched.h. __state is `state` before 5.14: read it only
 * through task_state() in core_fixes.bpf.h. */
#define TASK_RUNNING 0x0000

/* include/linux/cgroup-defs.h: the cgroup v2 id of a task is
 * task->cgroups->dfl_cgrp->kn->id: read it only through task_cgroup_id()
 * in core_fixes.bpf.h (struct cgroup and kernfs_node are below). */
struct cgroup;

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

/* kernel/sched/sched.h, include/linux/sched.h: the scheduler's own stamp
 * of a task's enqueue (sched_info.last_queued, CONFIG_SCHED_INFO; 0 when
 * not queued) is taken from its CPU's rq->clock. The rq of the task's CPU
 * is reached through se.cfs_rq->rq (CONFIG_FAIR_GROUP_SCHED), not the
 * per-CPU `runqueues`: cilium/ebpf resolves no typed ksyms. */
#define TASK_ON_RQ_MIGRATING 2

struct rq {
	__u64 clock;
} __attribute__((preserve_access_index));

struct cfs_rq {
	struct rq *rq;
} __attribute__((preserve_access_index));

struct sched_entity {
	struct cfs_rq *cfs_rq;
} __attribute__((preserve_access_index));

struct sched_info {
	unsigned long long last_queued;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
	unsigned int __state;
	int on_rq;
	struct sched_entity se;
	struct sched_info sched_info;
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

/* ---- TCP (tcp_rtt, tcp_connect, tcp_retransmits) ---- */

/* include/uapi/linux/bpf.h */
enum {
	BPF_MAP_TYPE_LPM_TRIE = 11,
	BPF_MAP_TYPE_STACK = 23, /* tcp_rtt's free slots */
	BPF_MAP_TYPE_SK_STORAGE = 24,
};
#define BPF_F_NO_PREALLOC 1
#define BPF_SK_STORAGE_GET_F_CREATE 1
#define BPF_SOCK_OPS_TCP_CONNECT_CB 3
#define BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB 4
#define BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB 5
#define BPF_SOCK_OPS_RTT_CB 12
#define BPF_SOCK_OPS_RTT_CB_FLAG 8
#define TCP_BPF_SOCK_OPS_CB_FLAGS 1008 /* bpf_setsockopt, Linux 6.12+ */

/* include/linux/socket.h, include/uapi/linux/in.h, include/net/tcp_states.h */
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOL_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

/* include/uapi/linux/in6.h */
struct in6_addr {
	__u8 s6_addr[16];
};

/* include/net/sock.h. Fields sit in anonymous unions in the kernel; CO-RE
 * finds them by name. sk_protocol was a bitfield before 5.6: read it only
 * through sk_protocol_of() in core_fixes.bpf.h. */
struct sock_common {
	__be32 skc_daddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
} __attribute__((preserve_access_index));

struct net_device {
	int ifindex;
} __attribute__((preserve_access_index));

struct dst_entry {
	struct net_device *dev;
} __attribute__((preserve_access_index));

/* include/linux/kernfs.h, include/linux/cgroup-defs.h: a cgroup v2 id is
 * its kernfs node's (64-bit since 5.5: read it through cgroup_id_of() in
 * core_fixes.bpf.h). */
struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

/* A socket's cgroup; this layout since 5.15: read it through
 * sock_cgroup_id() in core_fixes.bpf.h. */
struct sock_cgroup_data {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	struct dst_entry *sk_dst_cache;
	__u16 sk_protocol;
	struct sock_cgroup_data sk_cgrp_data;
} __attribute__((preserve_access_index));

/* include/linux/tcp.h */
struct tcp_sock {
	__u32 srtt_us; /* smoothed RTT << 3, in microseconds */
	__u8 bpf_sock_ops_cb_flags;
} __attribute__((preserve_access_index));

/* include/linux/skbuff.h, include/net/tcp.h: TCP's view of skb->cb */
struct sk_buff {
	char cb[48];
} __attribute__((preserve_access_index));

struct tcp_skb_cb {
	__u16 tcp_gso_segs;
} __attribute__((preserve_access_index));

/* include/uapi/linux/bpf.h: the sock_ops context (the verifier rewrites
 * these reads; CO-RE keeps the offsets right). */
struct bpf_sock;

struct bpf_sock_ops {
	__u32 op;
	__u32 args[4];
	__u32 family;
	__u32 remote_ip4;
	__u32 remote_ip6[4];
	__u32 remote_port; /* network byte order */
	__u32 local_port;  /* host byte order */
	__u32 srtt_us;
	__u32 bpf_sock_ops_cb_flags;
	struct bpf_sock *sk;
} __attribute__((preserve_access_index));

/* include/linux/bpf.h, net/ipv4/tcp_ipv4.c: the iter/tcp context */
struct bpf_iter_meta;

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

/* include/trace/events/sock.h, tcp.h: classic tracepoint records */
struct trace_event_raw_inet_sock_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate;
	int newstate;
} __attribute__((preserve_access_index));

struct trace_event_raw_tcp_probe {
	struct trace_entry ent;
	__u8 daddr[28]; /* struct sockaddr_in or sockaddr_in6 */
	__u16 sport;
	__u16 dport;
	__u32 srtt; /* microseconds */
	const void *skaddr; /* not in every kernel: check with bpf_core_field_exists */
} __attribute__((preserve_access_index));

#endif /* KERNEL_TYPES_H */
