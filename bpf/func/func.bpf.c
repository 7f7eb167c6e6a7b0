//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Func probe: latency of user-space functions named in the config, by a
 * uprobe at entry and a uretprobe at return, one histogram per function.
 *
 * A function is known by an index: the attach cookie user space gives each
 * of its links (Linux 5.15+), or, before that, the slot of one of
 * FUNC_SLOTS program pairs with the index built in. User space loads one
 * set or the other.
 *
 * Nesting: only the outermost call of a function in a thread is timed. The
 * user stack pointer kept at entry tells a nested call (deeper stack) from
 * a stale entry whose return never came (same or shallower stack); no depth
 * counter, so a lost return cannot wedge a thread. Recursion deeper than the
 * kernel's uretprobe limit (64) is therefore harmless too.
 *
 * A thread's timed calls are one record (struct func_thread): in task
 * storage where the kernel has it (5.11+), else in a hash of the threads
 * inside a measured function (task_starts.bpf.h).
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "slow_event.bpf.h"
#include "cgroup.bpf.h"
#include "func.h"

#define TASK_START struct func_thread
#include "task_starts.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FUNC_MAX);
	__type(key, struct func_hist_key);
	__type(value, struct hist);
} func_hists SEC(".maps");

/*
 * The series of a function without by_cgroup ({cgroup 0, fn}): row fn of a
 * per-CPU array, no key to hash (the per-CPU hash lookup was about 0.5x the
 * uprobe pair's floor). func_hists keeps the by_cgroup series.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNC_MAX);
	__type(key, __u32);
	__type(value, struct hist);
} func_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNC_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} func_counters SEC(".maps");

/* Each function's slow_threshold in ns (0: none), filled before load; slow_ns
 * is the smallest, the gate. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FUNC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} func_slow_ns SEC(".maps");

/* 1 for the functions with by_cgroup, filled before load; by_cgroup (the
 * knob) is whether any has it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FUNC_MAX);
	__type(key, __u32);
	__type(value, __u8);
} func_by_cgroup SEC(".maps");

static const struct hist empty_hist;

/* The calling thread's cgroup for fn's series, or 0 when fn has no
 * by_cgroup. */
static __always_inline __u64 call_cgroup(__u32 fn)
{
	__u8 *on;

	if (!by_cgroup)
		return 0;
	on = bpf_map_lookup_elem(&func_by_cgroup, &fn);
	return on && *on ? cgroup_current() : 0;
}

/* In addition to the sample, never instead. */
static __always_inline void slow_call(__u32 fn, __u64 ns, __u64 end, __u64 cgroup)
{
	__u64 *threshold = bpf_map_lookup_elem(&func_slow_ns, &fn);
	struct slow_event *e;

	if (!threshold || !*threshold || ns < *threshold)
		return;
	e = slow_reserve(ns, end);
	if (!e)
		return;
	slow_set_current(e);
	e->what = fn;
	e->cgroup = cgroup;
	slow_submit(e);
}

/* The slot of fn's timed call in rec, or NULL. */
static __always_inline struct func_start *call_of(struct func_thread *rec, __u32 fn)
{
#pragma unroll
	for (int i = 0; i < FUNC_NEST; i++)
		if (rec->calls[i].fn == fn + 1)
			return &rec->calls[i];
	return NULL;
}

static __always_inline struct func_start *free_slot(struct func_thread *rec)
{
	return call_of(rec, (__u32)-1); /* fn + 1 == 0 */
}

/* The current thread as task storage wants it (only read when in use). */
static __always_inline struct task_struct *current_task(void)
{
	return task_starts_local ? bpf_get_current_task_btf() : NULL;
}

static __always_inline int on_entry(struct pt_regs *ctx, __u32 fn)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct func_thread *rec = task_start_create(current_task(), tid);
	struct func_start *call;

	if (!rec)
		return 0;
	call = call_of(rec, fn);
	if (call) {
		/* The stack grows down: a deeper entry is a call nested in the
		 * timed one; any other means the timed one's return was lost. */
		if (ctx->sp < call->sp) {
			counter_inc(&func_counters, FUNC_NESTED);
			return 0;
		}
		counter_inc(&func_counters, FUNC_STALE);
	} else {
		call = free_slot(rec);
		if (!call) {
			counter_inc(&task_starts_counters, TASK_STARTS_FULL);
			return 0;
		}
	}
	call->fn = fn + 1;
	call->sp = ctx->sp;
	call->ns = bpf_ktime_get_ns();
	return 0;
}

/* No timed call left in the thread: its hash entry goes (task_starts.bpf.h). */
static __always_inline void release_if_idle(struct func_thread *rec, __u32 tid)
{
	if (task_starts_local)
		return;
#pragma unroll
	for (int i = 0; i < FUNC_NEST; i++)
		if (rec->calls[i].fn)
			return;
	task_start_release(tid);
}

static __always_inline int on_return(struct pt_regs *ctx, __u32 fn)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct func_hist_key hkey = { .fn = fn };
	struct func_thread *rec = task_start_find(current_task(), tid);
	struct func_start *call = rec ? call_of(rec, fn) : NULL;
	struct hist *h;
	__u64 ns;

	if (!rec || !call) {
		counter_inc(&func_counters, FUNC_UNMATCHED);
		return 0;
	}
	/* After its return a call's stack pointer is at or above where it
	 * was at entry (x86 pops the return address); a nested call's is
	 * below the outer call's entry. */
	if (ctx->sp < call->sp)
		return 0;
	ns = now - call->ns;
	call->fn = 0;
	release_if_idle(rec, tid);
	hkey.cgroup = call_cgroup(fn);
	if (!cgroup_wanted(hkey.cgroup))
		return 0;

	if (!hkey.cgroup) {
		h = bpf_map_lookup_elem(&func_rows, &fn);
	} else {
		/* Only a new series of a function with by_cgroup takes a cgroup slot. */
		h = bpf_map_lookup_elem(&func_hists, &hkey);
		if (!h) {
			hkey.cgroup = cgroup_admit(hkey.cgroup);
			h = map_lookup_or_init(&func_hists, &hkey, &empty_hist);
		}
	}
	/* After admission: the event carries its series' cgroup. */
	if (slow_wanted(ns))
		slow_call(fn, ns, now, hkey.cgroup);
	if (!h) {
		counter_inc(&func_counters, FUNC_HIST_FULL);
		return 0;
	}
	hist_record(h, ns, hist_current_epoch());
	return 0;
}

/* ---- Linux 5.15+: one program pair for every function, told apart by cookie ---- */

SEC("uprobe")
int func_entry(struct pt_regs *ctx)
{
	return on_entry(ctx, (__u32)bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int func_return(struct pt_regs *ctx)
{
	return on_return(ctx, (__u32)bpf_get_attach_cookie(ctx));
}

/* ---- older kernels: a program pair per slot, the index built in ---- */

#define FUNC_SLOT_PAIR(n)					\
	SEC("uprobe")						\
	int func_entry_##n(struct pt_regs *ctx)			\
	{							\
		return on_entry(ctx, n);			\
	}							\
	SEC("uretprobe")					\
	int func_return_##n(struct pt_regs *ctx)		\
	{							\
		return on_return(ctx, n);			\
	}

FUNC_SLOT_PAIR(0)
FUNC_SLOT_PAIR(1)
FUNC_SLOT_PAIR(2)
FUNC_SLOT_PAIR(3)
FUNC_SLOT_PAIR(4)
FUNC_SLOT_PAIR(5)
FUNC_SLOT_PAIR(6)
FUNC_SLOT_PAIR(7)
FUNC_SLOT_PAIR(8)
FUNC_SLOT_PAIR(9)
FUNC_SLOT_PAIR(10)
FUNC_SLOT_PAIR(11)
FUNC_SLOT_PAIR(12)
FUNC_SLOT_PAIR(13)
FUNC_SLOT_PAIR(14)
FUNC_SLOT_PAIR(15)
