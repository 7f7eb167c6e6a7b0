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
/*
 * The finer scheme's count, as compiled. User space cuts every histogram
 * map's value to the configured scheme's slots before load (SetScheme in
 * plugins/common/histogram), so a log2 value holds 32 and costs no more
 * than log2 needs; hist_slots() bounds each index to what the map holds.
 */
#define HIST_MAX_SLOTS HIST_SLOTS_LOG2X4

enum hist_scheme {
	HIST_LOG2 = 0,
	HIST_LOG2X4 = 1,
};

/* A histogram's fields besides its slots. */
struct hist_head {
	__u64 sum_ns;
	/*
	 * Largest and smallest sample of the interval whose epoch is stamp - 1
	 * (0: no sample yet, so a fresh value's min is not taken for a sample).
	 */
	__u64 max_ns;
	__u64 stamp;
	__u64 min_ns;
};

/*
 * Every histogram map value has this shape: the probe's own __u64 fields
 * first (if any), then one struct hist_head per histogram, then a last
 * member `slots` holding each histogram's slots in turn, HIST_MAX_SLOTS
 * apiece as compiled, the scheme's count apiece as loaded. User space finds
 * the member by name to cut it; keep it last.
 */

/* One per-CPU value per series: the value of a probe with one histogram. */
struct hist {
	struct hist_head head;
	__u64 slots[HIST_MAX_SLOTS];
};

#endif /* HISTOGRAM_H */
