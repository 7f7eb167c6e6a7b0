/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Slot math and recording for the shared histogram layout (histogram.h). */
#ifndef HISTOGRAM_BPF_H
#define HISTOGRAM_BPF_H

#include "histogram.h"

/*
 * The pure slot math first: plugins/common/histogram/internal/cslot compiles
 * it for the host (HIST_SLOT_MATH_ONLY) and checks it against the definition.
 */

/* floor(log2(v)) for v > 0, branch-free. */
static __always_inline __u32 log2_floor(__u64 v)
{
	__u32 r, shift;

	r = (v > 0xFFFFFFFFULL) << 5; v >>= r;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	return r | (__u32)(v >> 1);
}

/*
 * HIST_LOG2: the smallest k with ns <= 1000 * 2^k, without a division on the
 * per-event path: k0, the smallest k with ns <= 1024 * 2^k, is a shift away
 * from ceil(log2(ns)); the answer is k0 or, since 1000 * 2^(k0+1) >
 * 1024 * 2^k0, k0 + 1.
 */
static __always_inline __u32 hist_slot_log2(__u64 ns)
{
	__u32 slot;

	if (ns <= 1000)
		return 0;
	slot = log2_floor(ns - 1) + 1; /* ceil(log2(ns)) >= 10 here */
	slot -= 10;
	if (ns > (1000ULL << slot))
		slot++;
	return slot < HIST_SLOTS_LOG2 - 1 ? slot : HIST_SLOTS_LOG2 - 1;
}

/*
 * HIST_LOG2X4: the bounds are 250 ns * N for N = m * 2^e, m in 4..7 (three
 * significant bits), and N = m * 2^e is slot 4e + m - 4. Without a division:
 * N0, the smallest such N with 256 * N >= ns, is ceil(ns / 256) rounded up
 * to three significant bits; the answer is N0 or, since the next N is at
 * least 8/7 * N0 and 250 * 8/7 > 256, the next one.
 */
static __always_inline __u32 hist_slot_log2x4(__u64 ns)
{
	__u64 w;
	__u32 e, top, slot;

	if (ns <= 1000)
		return 0;
	if (ns > (1000ULL << 30))
		return HIST_SLOTS_LOG2X4 - 1;
	w = ((ns - 1) >> 8) + 1; /* ceil(ns / 256) >= 4 here */
	e = log2_floor(w) - 2;
	top = w >> e; /* 4..7 */
	if (w & ((1ULL << e) - 1))
		top++; /* rounded up: 5..8, where 8 * 2^e is 4 * 2^(e+1) */
	slot = 4 * e + top - 4;
	if (ns > ((250ULL * top) << e))
		slot++;
	/* Never above; the clamp is what lets the verifier bound the index. */
	return slot < HIST_SLOTS_LOG2X4 - 1 ? slot : HIST_SLOTS_LOG2X4 - 1;
}

#ifndef HIST_SLOT_MATH_ONLY

/* User space bumps the epoch at every gather; it delimits interval min and max. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hist_epoch SEC(".maps");

/* enum hist_scheme, set through the CollectionSpec before load. */
const volatile __u32 hist_scheme = HIST_LOG2;

static __always_inline __u32 hist_slot(__u64 ns)
{
	if (hist_scheme == HIST_LOG2X4)
		return hist_slot_log2x4(ns);
	return hist_slot_log2(ns);
}

/*
 * The slots each histogram of a value holds as loaded. hist_scheme is a
 * constant to the verifier, so an index below this is provably inside the
 * value user space cut to the scheme.
 */
static __always_inline __u32 hist_slots(void)
{
	return hist_scheme == HIST_LOG2X4 ? HIST_SLOTS_LOG2X4 : HIST_SLOTS_LOG2;
}

static __always_inline __u64 hist_current_epoch(void)
{
	__u32 zero = 0;
	__u64 *epoch = bpf_map_lookup_elem(&hist_epoch, &zero);

	return epoch ? *epoch : 0;
}

/*
 * Record into one histogram of a value: its head and its own slots (for
 * the value's stage s, slots + s * hist_slots()). Callers pass a per-CPU
 * value, so plain increments need no atomics.
 */
static __always_inline void hist_record_into(struct hist_head *h, __u64 *slots, __u64 ns,
					     __u64 epoch)
{
	slots[hist_slot(ns)]++;
	h->sum_ns += ns;
	if (h->stamp != epoch + 1) {
		h->stamp = epoch + 1;
		h->max_ns = ns;
		h->min_ns = ns;
		return;
	}
	if (ns > h->max_ns)
		h->max_ns = ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
}

/* Record into a value holding one histogram. */
static __always_inline void hist_record(struct hist *h, __u64 ns, __u64 epoch)
{
	hist_record_into(&h->head, h->slots, ns, epoch);
}

#endif /* HIST_SLOT_MATH_ONLY */

#endif /* HISTOGRAM_BPF_H */
