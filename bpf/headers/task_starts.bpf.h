/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-thread start records, shared by the probes that time what a thread
 * does (runq, func, syscall); read by plugins/inputs/ebpf_latency/taskstarts.
 *
 * Best: task-local storage (BPF_MAP_TYPE_TASK_STORAGE, tracing programs on
 * Linux 5.11+). The record lives in the task itself and dies with it, so
 * nothing is evicted while the operation is in flight, and a lookup is a
 * pointer walk instead of a hash. It needs a BTF task pointer: tp_btf
 * arguments, or bpf_get_current_task_btf() (5.11+) in any tracing program.
 *
 * Fallback: a plain hash keyed by thread id (never LRU: an LRU would evict
 * the oldest record, i.e. the longest wait, without a trace). When full, a
 * record is refused and counted. Probes delete their records once done
 * (task_start_release), so the hash holds only operations in flight.
 *
 * User space picks one before load (task_starts_local) and resizes the
 * other away; the verifier prunes the branch not taken.
 *
 * The probe defines TASK_START, its record type, before including this.
 */
#ifndef TASK_STARTS_BPF_H
#define TASK_STARTS_BPF_H

#include "maps.bpf.h" /* map_lookup_or_init, counter_inc */

#ifndef TASK_START
#error "define TASK_START (the probe's per-thread record type) before including task_starts.bpf.h"
#endif

/* include/uapi/linux/bpf.h */
#define TASK_STARTS_MAP_TYPE_TASK_STORAGE 29
#define TASK_STARTS_F_NO_PREALLOC 1
#define TASK_STARTS_GET_F_CREATE 1 /* BPF_LOCAL_STORAGE_GET_F_CREATE */

enum task_starts_counter {
	TASK_STARTS_FULL,    /* records not kept: fallback hash full */
	TASK_STARTS_REFUSED, /* records not kept: task storage gave none (no memory, or busy on this CPU) */
	TASK_STARTS_COUNTERS,
};

/* Knob, set by user space before load: records in task storage. */
const volatile bool task_starts_local = false;

struct {
	__uint(type, TASK_STARTS_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, TASK_STARTS_F_NO_PREALLOC);
	__type(key, int);
	__type(value, TASK_START);
} task_starts_storage SEC(".maps");

/* User space sizes it (one entry when task storage is used). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* thread id */
	__type(value, TASK_START);
} task_starts_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TASK_STARTS_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} task_starts_counters SEC(".maps");

static const TASK_START task_starts_empty;

/*
 * The record of thread tid, created zeroed if it has none; NULL, counted,
 * when there is no room. task is the thread as a BTF pointer; it is only
 * read when task_starts_local is set.
 */
static __always_inline TASK_START *task_start_create(struct task_struct *task, __u32 tid)
{
	TASK_START *rec;

	if (task_starts_local) {
		rec = bpf_task_storage_get(&task_starts_storage, task, 0, TASK_STARTS_GET_F_CREATE);
		if (!rec)
			counter_inc(&task_starts_counters, TASK_STARTS_REFUSED);
		return rec;
	}
	rec = map_lookup_or_init(&task_starts_hash, &tid, &task_starts_empty);
	if (!rec)
		counter_inc(&task_starts_counters, TASK_STARTS_FULL);
	return rec;
}

/* The record of thread tid, or NULL if it has none. */
static __always_inline TASK_START *task_start_find(struct task_struct *task, __u32 tid)
{
	if (task_starts_local)
		return bpf_task_storage_get(&task_starts_storage, task, 0, 0);
	return bpf_map_lookup_elem(&task_starts_hash, &tid);
}

/*
 * Done with thread tid's record: the hash entry goes, so the hash holds
 * only operations in flight; task storage keeps it for the thread's next
 * operation (the caller marks it consumed), and frees it with the thread.
 */
static __always_inline void task_start_release(__u32 tid)
{
	if (!task_starts_local)
		bpf_map_delete_elem(&task_starts_hash, &tid);
}

#endif /* TASK_STARTS_BPF_H */
