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
	__u32 fn;
};

/* One timed call per thread and function: the outermost. */
struct func_start_key {
	__u64 pid_tgid;
	__u32 fn;
	__u32 pad;
};

struct func_start {
	__u64 ns; /* entry time */
	__u64 sp; /* user stack pointer at entry: tells nested and stale calls apart */
};

enum func_counter {
	FUNC_NESTED,    /* calls inside a timed call of the same function and thread: not timed */
	FUNC_UNMATCHED, /* returns with no kept entry (call began before attach, or evicted) */
	FUNC_STALE,     /* entries whose earlier call never returned (longjmp, exception, thread exit) */
	FUNC_HIST_FULL, /* samples lost: histogram map full */
	FUNC_COUNTERS,
};

#endif /* FUNC_H */
