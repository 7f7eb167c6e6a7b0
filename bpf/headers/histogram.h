/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The histogram layout every probe shares, read by plugins/common/histogram.
 *
 * Slot 0 counts samples of at most 1 us; slot k (1 <= k < HIST_SLOTS - 1)
 * counts samples v with 2^(k-1) us < v <= 2^k us, so 2^k us is a true upper
 * bound (Prometheus `le`); the last slot counts everything above 2^(HIST_SLOTS-2) us.
 */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#define HIST_SLOTS 32

/* One per-CPU value per series. */
struct hist {
	__u64 slots[HIST_SLOTS];
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
