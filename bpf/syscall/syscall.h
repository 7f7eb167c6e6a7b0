/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types the syscall probe shares with user space (bpf2go turns them into Go). */
#ifndef SYSCALL_H
#define SYSCALL_H

#include "histogram.h"

/* Syscall numbers below this are measurable; x32's (bit 30 set) never are. */
#define SYSCALL_SLOTS 1024
#define SYSCALL_COMM_LEN 16

struct syscall_hist_key {
	__u64 cgroup; /* cgroup v2 id (cgroup.bpf.h); 0 when by_cgroup is off */
	__u32 nr;
	/* Task comm at entry, NUL-padded, so its last byte is always 0: the
	 * series folded into comm="other" is empty with a last byte of 1, apart
	 * from a task that named itself "". */
	char comm[SYSCALL_COMM_LEN];
	__u32 pad; /* zero: keys are compared bytewise */
};

enum syscall_counter {
	SYSCALL_COMM_FOLDED,     /* samples recorded as comm="other": max_comms reached */
	SYSCALL_HIST_FULL,       /* samples lost: histogram map full */
	SYSCALL_COMPAT_SKIPPED,  /* 32-bit syscalls not timed: their numbers mean other calls */
	SYSCALL_COUNTERS,
};

#endif /* SYSCALL_H */
