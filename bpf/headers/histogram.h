/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The histogram layout every probe shares, read by plugins/common/histogram.
 * Two bucket schemes, chosen per probe before load (hist_scheme in
 * histogram.bpf.h); both share the first bound (1 us) and the last finite
 * one (2^30 us), and every bound is a true upper bound (Prometheus `le`).
 *
 * HIST_LOG2: slot 0 counts samples of at most 1 us; slot k
 * (1 <= k < HIST_SLOTS_LOG2 - 1) counts samples v with
 * 2^(k-1) us < v <= 2^k us; the last slot counts everything above 2^30 us.
 *
 * HIST_LOG2X4: four linear sub-buckets per power of two. Slot 0 counts
 * samples of at most 1 us; slot 1 + 4k + j (k = 0..29, j = 0..3) counts
 * v with (4 + j)/4 * 2^k us < v <= (5 + j)/4 * 2^k us, so the bounds are
 * 1.25, 1.5, 1.75 and 2 times 2^k us; the last slot counts everything
 * above 2^30 us.
 */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#define HIST_SLOTS_LOG2 32
#define HIST_SLOTS_LOG2X4 122
/* The value holds the finer scheme's slots; log2 uses the first 32. */
#define HIST_MAX_SLOTS HIST_SLOTS_LOG2X4

enum hist_scheme {
	HIST_LOG2 = 0,
	HIST_LOG2X4 = 1,
};

/* One per-CPU value per series. */
struct hist {
	__u64 slots[HIST_MAX_SLOTS];
	__u64 sum_ns;
	/*
	 * Largest and smallest sample of the interval whose epoch is stamp - 1
	 * (0: no sample yet, so a fresh value's min is not taken for a sample).
	 */
	__u64 max_ns;
	__u64 stamp;
	__u64 min_ns;
};

#endif /* HISTOGRAM_H */
