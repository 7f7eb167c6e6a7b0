/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Slot math and recording for the shared histogram layout (histogram.h). */
#ifndef HISTOGRAM_BPF_H
#define HISTOGRAM_BPF_H

#include "histogram.h"

/* User space bumps the epoch at every gather; it delimits interval min and max. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hist_epoch SEC(".maps");

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
 * The smallest k with ns <= 1000 * 2^k (the bound 2^k us of histogram.h),
 * without a division on the per-event path: k0, the smallest k with
 * ns <= 1024 * 2^k, is a shift away from ceil(log2(ns)); the answer is k0 or,
 * since 1000 * 2^(k0+1) > 1024 * 2^k0, k0 + 1. histogram_test.go checks this
 * against the definition.
 */
static __always_inline __u32 hist_slot(__u64 ns)
{
	__u32 slot;

	if (ns <= 1000)
		return 0;
	slot = log2_floor(ns - 1) + 1; /* ceil(log2(ns)) >= 10 here */
	slot -= 10;
	if (ns > (1000ULL << slot))
		slot++;
	return slot < HIST_SLOTS - 1 ? slot : HIST_SLOTS - 1;
}

static __always_inline __u64 hist_current_epoch(void)
{
	__u32 zero = 0;
	__u64 *epoch = bpf_map_lookup_elem(&hist_epoch, &zero);

	return epoch ? *epoch : 0;
}

/* Callers pass a per-CPU value, so plain increments need no atomics. */
static __always_inline void hist_record(struct hist *h, __u64 ns, __u64 epoch)
{
	__u32 slot = hist_slot(ns);

	h->slots[slot & (HIST_SLOTS - 1)]++;
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

#endif /* HISTOGRAM_BPF_H */
