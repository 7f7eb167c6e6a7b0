/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The comm filter every probe with a `comms` key shares, judged in the
 * kernel from a comm's first event without asking user space. User space
 * (plugins/common/commglob) splits the patterns: exact names go to the
 * comm_glob_names hash (one lookup, any number of names), real globs are
 * compiled into one shift-and automaton of 64 states.
 *
 * Bit j of the state means "a pattern prefix ending at token j matched".
 * chars[c] holds the tokens that accept byte c, star the `*` tokens, start
 * each pattern's first bit (closed over a leading star), accept each
 * pattern's final bit. Plain C over __u64, so commglob's tests compile this
 * very header for the host and run it against the Go compiler's automata.
 */
#ifndef COMM_GLOB_BPF_H
#define COMM_GLOB_BPF_H

#define COMM_GLOB_LEN 16 /* TASK_COMM_LEN */

/* Which half is configured: the other is pruned at load (commglob.Filter). */
const volatile bool comm_glob_has_names = false;
const volatile bool comm_glob_has_globs = false;

/* The automaton, set by user space before load (commglob.Automaton.Knobs). */
const volatile __u64 comm_glob_start = 0;
const volatile __u64 comm_glob_star = 0;
const volatile __u64 comm_glob_accept = 0;
const volatile __u64 comm_glob_chars[256] = {};

static __always_inline bool comm_glob_match(const char *comm, __u64 start, __u64 star,
					    __u64 accept, const volatile __u64 *chars)
{
	__u64 state = start;

#pragma unroll
	for (int k = 0; k < COMM_GLOB_LEN; k++) {
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

#ifdef __BPF__
/* Exact names, NUL-padded to COMM_GLOB_LEN; sized and filled before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, char[COMM_GLOB_LEN]);
	__type(value, __u8);
} comm_glob_names SEC(".maps");

/* Whether some `comms` pattern matches comm (COMM_GLOB_LEN bytes, NUL-padded). */
static __always_inline bool comm_glob_wanted(const char *comm)
{
	if (comm_glob_has_names && bpf_map_lookup_elem(&comm_glob_names, comm))
		return true;
	return comm_glob_has_globs &&
	       comm_glob_match(comm, comm_glob_start, comm_glob_star, comm_glob_accept, comm_glob_chars);
}
#endif

#endif /* COMM_GLOB_BPF_H */
