/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Slow events, shared by every probe: an operation slower than slow_ns is,
 * besides its histogram sample, sent to user space as one struct slow_event
 * through a BPF ring buffer (Linux 5.8+), read by plugins/common/slowevent.
 *
 * A token bucket shared by all CPUs (one cell rate state, updated with
 * compare-and-swap) limits events to a rate; an event the bucket or a full
 * ring refuses is counted in slow_counters, never lost silently. With
 * slow_ns = 0 (the default) the verifier prunes all of it.
 */
#ifndef SLOW_EVENT_BPF_H
#define SLOW_EVENT_BPF_H

#include "maps.bpf.h" /* counter_inc */

#define SLOW_COMM_LEN 16
#define SLOW_MAP_TYPE_RINGBUF 27 /* include/uapi/linux/bpf.h */

/* One slow operation. What identifies it depends on the probe. */
struct slow_event {
	__u64 latency_ns;
	__u64 end_ns;  /* bpf_ktime_get_ns() when the operation ended */
	__u64 detail;  /* disk: sector; syscall: first argument (the fd) */
	__u64 cgroup;  /* by_cgroup: the cgroup field of the operation's histogram key; else 0 */
	__u32 pid;     /* TGID of the task the operation belongs to */
	__u32 tid;
	__u32 dev;     /* disk: dev_t of the whole disk (MAJOR << 20 | MINOR) */
	__u32 size;    /* disk: bytes; tcp: peer port */
	__u32 what;    /* disk: op; syscall: number; func: function index; tcp: family */
	__u32 pad;
	__u8 addr[16]; /* tcp: peer address (IPv4: the first 4 bytes) */
	char comm[SLOW_COMM_LEN];
};

enum slow_counter {
	SLOW_RATE_LIMITED, /* slow operations not sent: over slow_events_per_second */
	SLOW_RING_FULL,    /* slow operations not sent: ring buffer full */
	SLOW_COUNTERS,
};

/* Knobs, set by user space before load. */
const volatile __u64 slow_ns = 0;            /* threshold; 0: no events */
const volatile __u64 slow_token_ns = 0;      /* 1e9 / events per second */
const volatile __u64 slow_burst_ns = 0;      /* (burst - 1) * slow_token_ns */

/* User space sizes it (a page when events are off). */
struct {
	__uint(type, SLOW_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} slow_events SEC(".maps");

/* The bucket's theoretical arrival time of the next event (GCRA). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} slow_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOW_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} slow_counters SEC(".maps");

/* Atomic compare-and-swap (BPF_CMPXCHG, Linux 5.12+, like the ring buffer
 * only ever reached when events are on); as asm so the object keeps
 * -mcpu=v1 for the oldest kernels the histograms run on. */
static __always_inline __u64 slow_cmpxchg(__u64 *ptr, __u64 old, __u64 new)
{
	register __u64 r0 asm("r0") = old;

	asm volatile("r0 = cmpxchg_64(%[ptr] + 0, r0, %[new])"
		     : "+r"(r0)
		     : [ptr] "r"(ptr), [new] "r"(new)
		     : "memory");
	return r0;
}

/* Take a token: at most one burst ahead of the steady rate. */
static __always_inline bool slow_take_token(__u64 now)
{
	__u32 zero = 0;
	__u64 *tat = bpf_map_lookup_elem(&slow_bucket, &zero);

#pragma unroll
	for (int i = 0; tat && i < 4; i++) {
		__u64 old = *tat;
		__u64 base = old > now ? old : now;

		if (base - now > slow_burst_ns)
			return false;
		if (slow_cmpxchg(tat, old, base + slow_token_ns) == old)
			return true;
	}
	return false; /* lost four races in a row: counted as rate limited */
}

/* Whether latency_ns makes a slow event (cheap; call before gathering details). */
static __always_inline bool slow_wanted(__u64 latency_ns)
{
	return slow_ns && latency_ns >= slow_ns;
}

/* Reserve room for one event, or count why there is none; the caller fills
 * it and hands it to slow_submit. */
static __always_inline struct slow_event *slow_reserve(__u64 latency_ns, __u64 end_ns)
{
	struct slow_event *e;

	if (!slow_take_token(end_ns)) {
		counter_inc(&slow_counters, SLOW_RATE_LIMITED);
		return NULL;
	}
	e = bpf_ringbuf_reserve(&slow_events, sizeof(*e), 0);
	if (!e) {
		counter_inc(&slow_counters, SLOW_RING_FULL);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->latency_ns = latency_ns;
	e->end_ns = end_ns;
	return e;
}

static __always_inline void slow_submit(struct slow_event *e)
{
	bpf_ringbuf_submit(e, 0);
}

/* The current task as the event's owner. */
static __always_inline void slow_set_current(struct slow_event *e)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

#endif /* SLOW_EVENT_BPF_H */
