/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one home of kernel-version differences. Each block names the kernel
 * change it papers over; probes call the accessors and never test versions.
 */
#ifndef CORE_FIXES_BPF_H
#define CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * Linux 5.11 (commit a54895fa057c, "block: remove the request_queue to
 * argument request based tracepoints") dropped the leading
 * `struct request_queue *` from block_rq_insert and block_rq_issue.
 * User space reads the tracepoint's prototype from kernel BTF and sets this
 * before load; being frozen .rodata, the verifier then prunes the branch not
 * taken, which it must: tp_btf and raw_tp refuse ctx reads past the last
 * argument even in dead code.
 */
#ifdef CORE_FIX_BLOCK_RQ_ARGS /* defined by the probes that use it */
const volatile bool block_rq_tp_has_queue_arg = false;

/* Call fn with the request argument of block_rq_insert/issue (tp_btf, raw_tp). */
#define WITH_BLOCK_RQ_ARG(ctx, fn, ...)					\
	(block_rq_tp_has_queue_arg ?					\
		 fn((struct request *)(ctx)[1], ##__VA_ARGS__) :	\
		 fn((struct request *)(ctx)[0], ##__VA_ARGS__))
#endif /* CORE_FIX_BLOCK_RQ_ARGS */

/*
 * Linux 5.15/5.17 (commits d152c682f03c, "block: add an explicit ->disk
 * backpointer to the request_queue", and f3fa33acca9f, "block: remove the
 * ->rq_disk field in struct request"): the disk moved from rq->rq_disk to
 * rq->q->disk.
 */
struct request___with_rq_disk {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *request_disk(struct request *rq)
{
	struct request___with_rq_disk *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return BPF_CORE_READ(old, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

/* request_disk for tp_btf programs: plain BTF-checked loads, no helpers. */
static __always_inline struct gendisk *request_disk_btf(struct request *rq)
{
	struct request___with_rq_disk *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return old->rq_disk;
	return rq->q->disk;
}

/*
 * Kernel-internal dev_t of the request's whole disk (MAJOR << 20 | MINOR);
 * btf selects plain loads (tp_btf) over probe-read helpers (raw_tp).
 */
static __always_inline __u32 request_devt(struct request *rq, bool btf)
{
	struct gendisk *disk = btf ? request_disk_btf(rq) : request_disk(rq);
	__u32 major, minor;

	if (!disk)
		return 0;
	if (btf) {
		major = disk->major;
		minor = disk->first_minor;
	} else {
		major = BPF_CORE_READ(disk, major);
		minor = BPF_CORE_READ(disk, first_minor);
	}
	return (major << 20) | minor;
}

/*
 * Linux 4.17 (commit 522a777566f5, "block: consolidate struct request
 * timestamp fields") gave struct request start_time_ns and io_start_time_ns.
 */
static __always_inline bool request_has_timestamps(void)
{
	return bpf_core_field_exists(((struct request *)0)->io_start_time_ns);
}

/*
 * Linux 6.13 ("block: move iostat check into blk_account_io_start()")
 * stamps rq->start_time_ns only where it accounts the request (RQF_IO_STAT:
 * the queue's iostats is on); otherwise the preallocated request keeps the
 * stamp of the last request that used its slot, however old. Whether the
 * stamp is this request's own; kernels without enum rqf_flags (before 6.8)
 * zero the stamp where they do not set it, so theirs always is.
 */
static __always_inline bool request_start_is_own(struct request *rq, bool btf)
{
	__u32 flags;

	if (!bpf_core_enum_value_exists(enum rqf_flags, __RQF_IO_STAT))
		return true;
	flags = btf ? rq->rq_flags : BPF_CORE_READ(rq, rq_flags);
	return flags & (1U << bpf_core_enum_value(enum rqf_flags, __RQF_IO_STAT));
}

/*
 * Linux 5.14 (commit 2f064a59a11f, "sched: Change task_struct::state")
 * renamed task_struct::state (long) to __state (unsigned int).
 */
struct task_struct___pre_5_14 {
	long state;
} __attribute__((preserve_access_index));

/* btf selects plain BTF-checked loads (tp_btf) over probe-read helpers. */
static __always_inline unsigned int task_state(struct task_struct *t, bool btf)
{
	struct task_struct___pre_5_14 *old = (void *)t;

	if (bpf_core_field_exists(old->state))
		return btf ? (unsigned int)old->state : (unsigned int)BPF_CORE_READ(old, state);
	return btf ? t->__state : BPF_CORE_READ(t, __state);
}

/*
 * Linux 5.6 (commit bf9765145b85, "sock: Make sk_protocol a 16-bit value")
 * turned sk->sk_protocol from an 8-bit bitfield into a plain __u16; the
 * probed bitfield read handles both.
 */
static __always_inline __u16 sk_protocol_of(struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/* sk_protocol_of for tp_btf programs: a plain BTF-checked load. */
static __always_inline __u16 sk_protocol_of_btf(struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD(sk, sk_protocol);
}

/*
 * Linux 5.5 (commit 67c0496e87d1, "kernfs: convert kernfs_node->id from
 * union kernfs_node_id to u64"): before, the id was a union whose 64-bit
 * member `id` is what bpf_get_current_cgroup_id() returned.
 */
union kernfs_node_id___pre_5_5 {
	__u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___pre_5_5 {
	union kernfs_node_id___pre_5_5 id;
} __attribute__((preserve_access_index));

/* The cgroup v2 id of cgrp, as bpf_get_current_cgroup_id() gives it; btf:
 * cgrp is a BTF pointer, read with plain loads instead of helper calls. */
static __always_inline __u64 cgroup_id_of(struct cgroup *cgrp, bool btf)
{
	struct kernfs_node *kn = btf ? cgrp->kn : BPF_CORE_READ(cgrp, kn);
	struct kernfs_node___pre_5_5 *old = (void *)kn;

	if (bpf_core_type_exists(union kernfs_node_id___pre_5_5))
		return btf ? old->id.id : BPF_CORE_READ(old, id.id);
	return btf ? kn->id : BPF_CORE_READ(kn, id);
}

/*
 * The cgroup v2 id of task t, which need not be the current task (runq: the
 * task switched in); btf as in cgroup_id_of.
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *t, bool btf)
{
	return cgroup_id_of(btf ? t->cgroups->dfl_cgrp : BPF_CORE_READ(t, cgroups, dfl_cgrp), btf);
}

/*
 * Linux 5.15 (commit 8520e224f547, "bpf, cgroups: Fix cgroup v2 fallback on
 * v1/v2 mixed mode"): sock_cgroup_data holds the socket's v2 cgroup
 * pointer. Before, one u64 `val` held it unless the v1 net_cls or net_prio
 * controller had taken the word over (bit 0 set); the kernel then charged
 * the socket to the v2 root, and so does this (id 1).
 */
struct sock_cgroup_data___pre_5_15 {
	__u64 val;
} __attribute__((preserve_access_index));

/* The cgroup v2 id of the socket: its creator's cgroup (an accepted
 * socket's is its listener's). btf: as in cgroup_id_of. */
static __always_inline __u64 sock_cgroup_id(struct sock *sk, bool btf)
{
	struct sock_cgroup_data___pre_5_15 *old = (void *)&sk->sk_cgrp_data;
	struct cgroup *cgrp;
	__u64 val;

	if (bpf_core_field_exists(old->val)) {
		val = btf ? old->val : BPF_CORE_READ(old, val);
		if (val & 1)
			return 1;
		cgrp = (struct cgroup *)val;
		btf = false; /* a bare integer to the verifier */
	} else {
		cgrp = btf ? sk->sk_cgrp_data.cgroup : BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	}
	return cgrp ? cgroup_id_of(cgrp, btf) : 0;
}

/*
 * tcp:tcp_retransmit_skb's classic record was the shared tcp_event_sk_skb
 * class until it got a class of its own with an `err` field; with that
 * argument the tracepoint fires for failed attempts too (e.g. -EBUSY while
 * the original still sits in a device queue), which retransmitted nothing
 * and must not be counted. Both records start with skbaddr, skaddr.
 */
struct trace_event_raw_tcp_event_sk_skb {
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

struct trace_event_raw_tcp_retransmit_skb {
	const void *skbaddr;
	const void *skaddr;
	int err;
} __attribute__((preserve_access_index));

/* The record's sk and skb, and its err (0 where the record has none). */
static __always_inline void retransmit_record_ptrs(void *ctx, struct sock **sk, struct sk_buff **skb, int *err)
{
	*err = 0;
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb)) {
		struct trace_event_raw_tcp_retransmit_skb *r = ctx;

		*sk = (struct sock *)BPF_CORE_READ(r, skaddr);
		*skb = (struct sk_buff *)BPF_CORE_READ(r, skbaddr);
		if (bpf_core_field_exists(r->err))
			*err = BPF_CORE_READ(r, err);
	} else {
		struct trace_event_raw_tcp_event_sk_skb *r = ctx;

		*sk = (struct sock *)BPF_CORE_READ(r, skaddr);
		*skb = (struct sk_buff *)BPF_CORE_READ(r, skbaddr);
	}
}

#ifdef CORE_FIX_TCP_RETRANSMIT_ERR /* defined by the probes that use it */
/*
 * The same change in tp_btf/raw_tp form: a third argument, int err. User
 * space sets this from the tracepoint's BTF prototype before load; frozen,
 * it lets the verifier prune the ctx[2] read where the argument is absent.
 */
const volatile bool tcp_retransmit_tp_has_err = false;

/* The err argument of tcp_retransmit_skb in a tp_btf or raw_tp context. */
#define TCP_RETRANSMIT_ERR(ctx) (tcp_retransmit_tp_has_err ? (int)(ctx)[2] : 0)
#endif /* CORE_FIX_TCP_RETRANSMIT_ERR */

/*
 * Linux 6.10 (Philo Lu, "bpf: add mrtt and srtt as BPF_SOCK_OPS_RTT_CB
 * args") passes BPF_SOCK_OPS_RTT_CB the measured RTT sample (args[0], us)
 * and the updated smoothed RTT (args[1], us << 3, never 0 once set).
 * Before, both are 0 and only ctx->srtt_us, the smoothed RTT before this
 * sample, is at hand. Returns microseconds.
 */
static __always_inline __u32 sock_ops_rtt_us(struct bpf_sock_ops *skops)
{
	__u32 mrtt = skops->args[0], srtt = skops->args[1];

	if (mrtt || srtt)
		return mrtt;
	return skops->srtt_us >> 3;
}

/*
 * Not a kernel version but an architecture: x86-64 runs 32-bit syscalls
 * (ia32 programs, or int $0x80 from any program) through the same
 * raw_syscalls tracepoints, numbered from the ia32 table, where 75 is
 * setrlimit rather than fdatasync. TS_COMPAT (0x0002,
 * arch/x86/include/asm/thread_info.h) in thread_info.status marks such a
 * syscall from entry on. Architectures whose thread_info has no status field
 * report false.
 */
struct thread_info___x86 {
	__u32 status;
} __attribute__((preserve_access_index));

struct task_struct___x86 {
	struct thread_info___x86 thread_info;
} __attribute__((preserve_access_index));

/* current: the current task as a BTF pointer (tp_btf), read with a
 * BTF-checked load; NULL reads it through helpers. */
static __always_inline bool in_compat_syscall(struct task_struct *current)
{
	struct task_struct___x86 *task = (void *)current;

	if (!bpf_core_field_exists(((struct task_struct___x86 *)0)->thread_info.status))
		return false;
	if (task)
		return task->thread_info.status & 0x0002;
	task = (void *)bpf_get_current_task();
	return BPF_CORE_READ(task, thread_info.status) & 0x0002;
}

/*
 * A syscall's first argument from the pt_regs sys_enter hands over: rdi on
 * x86-64, x0 (regs[0]) on arm64. Read with the probe-read helper: only slow
 * events use it.
 */
struct pt_regs___x86 {
	unsigned long di;
} __attribute__((preserve_access_index));

struct pt_regs___arm64 {
	unsigned long regs[31];
} __attribute__((preserve_access_index));

static __always_inline __u64 syscall_arg0(void *regs)
{
	if (bpf_core_field_exists(((struct pt_regs___x86 *)0)->di))
		return BPF_CORE_READ((struct pt_regs___x86 *)regs, di);
	if (bpf_core_field_exists(((struct pt_regs___arm64 *)0)->regs))
		return BPF_CORE_READ((struct pt_regs___arm64 *)regs, regs[0]);
	return 0;
}

#endif /* CORE_FIXES_BPF_H */
