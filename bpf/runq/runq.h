/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types the runq probe shares with user space (bpf2go turns them into Go). */
#ifndef RUNQ_H
#define RUNQ_H

#include "histogram.h"

#define RUNQ_COMM_LEN 16     /* TASK_COMM_LEN */

enum runq_series {
	RUNQ_SERIES_ALL,   /* no comm filter: one series for every task */
	RUNQ_SERIES_COMM,  /* one matching comm */
	RUNQ_SERIES_OTHER, /* matching comms beyond max_comms, folded */
};

struct runq_hist_key {
	__u64 cgroup; /* cgroup v2 id of the task switched in (cgroup.bpf.h); 0 when by_cgroup is off */
	char comm[RUNQ_COMM_LEN]; /* zero-padded; empty unless RUNQ_SERIES_COMM */
	__u32 series;
	__u32 pad; /* zero: keys are compared bytewise */
};

enum runq_counter {
	RUNQ_UNTIMED,     /* switch-ins with no enqueue time (queued before attach, not kept: see task_starts.bpf.h, or no kernel stamp) */
	RUNQ_COMM_FOLDED, /* samples folded into comm="other" (max_comms comms hold a series) */
	RUNQ_HIST_FULL,   /* samples lost: histogram map full */
	RUNQ_CLOCK_BACKWARDS, /* switch-ins not measured: enqueue time later than the clock at switch-in */
	RUNQ_MIGRATED_WAITS,  /* measured tasks moved to another CPU while queued (kernel stamps: wait restarts there) */
	RUNQ_COUNTERS,
};

#endif /* RUNQ_H */
