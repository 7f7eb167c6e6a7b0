/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The comm glob automaton, compiled by user space (plugins/inputs/
 * ebpf_latency/runq/glob.go) into one shift-and automaton over all patterns:
 * bit j of the state means "a pattern prefix ending at token j matched".
 * chars[c] holds the tokens that accept byte c, star the `*` tokens, start
 * each pattern's first bit (closed over a leading star), accept each
 * pattern's final bit. Plain C over __u64, so the runq tests compile this
 * very code for the host and run it against the Go compiler's automata.
 */
#ifndef RUNQ_GLOB_H
#define RUNQ_GLOB_H

#include "runq.h"

static __always_inline bool glob_match(const char *comm, __u64 start, __u64 star,
				       __u64 accept, const volatile __u64 *chars)
{
	__u64 state = start;

#pragma unroll
	for (int k = 0; k < RUNQ_COMM_LEN; k++) {
		__u8 c = comm[k];

		if (!c)
			break;
		/* An accept bit has no chars, so it never shifts into the next pattern. */
		state = ((state & chars[c]) << 1) | (state & star);
		/* Stars come collapsed, so one step closes over skipping one. */
		state |= (state & star) << 1;
	}
	return state & accept;
}

#endif /* RUNQ_GLOB_H */
