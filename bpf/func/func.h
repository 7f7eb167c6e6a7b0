/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types the func probe shares with user space (bpf2go turns them into Go). */
#ifndef FUNC_H
#define FUNC_H

#include "histogram.h"

/* Configured functions the histogram map holds; user space refuses more. */
#define FUNC_MAX 256
/* Program pairs of the no-cookie fallback (kernels before 5.15). */
#define FUNC_SLOTS 16

/* Function index: the attach cookie, or the slot of the program pair. */
struct func_hist_key {
	__u64 cgroup; /* cgroup v2 id of the calling thread (cgroup.bpf.h); 0 unless the function has by_cgroup */
	__u32 fn;
	__u32 pad; /* zero: keys are compared bytewise */
};

/* Functions a thread can be inside at once, each timed (its outermost
 * call); an entry into one more is not timed, counted in start_full. */
#define FUNC_NEST 4

/* One timed call: the outermost of its function in its thread. */
struct func_start {
	__u64 ns; /* entry time */
	__u64 sp; /* user stack pointer at entry: tells nested and stale calls apart */
	__u32 fn; /* function index + 1; 0: a free slot */
	__u32 pad;
};

/* A thread's timed calls, in task storage or the fallback hash
 * (bpf/headers/task_starts.bpf.h). */
struct func_thread {
	struct func_start calls[FUNC_NEST];
};

enum func_counter {
	FUNC_NESTED,    /* calls inside a timed call of the same function and thread: not timed */
	FUNC_UNMATCHED, /* returns with no kept entry (call began before attach, or its entry not kept) */
	FUNC_STALE,     /* entries whose earlier call never returned (longjmp, exception, thread exit) */
	FUNC_HIST_FULL, /* samples lost: histogram map full */
	FUNC_COUNTERS,
};

#endif /* FUNC_H */
