/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Cgroup attribution, shared by every probe (by_cgroup, cgroups,
 * max_cgroups), read by plugins/common/cgroup.
 *
 * A series is told apart by the cgroup v2 id of the task an operation is
 * charged to (kernfs node id: the inode of the cgroup's directory on the
 * cgroup2 mount). Probes put it in their histogram key's `__u64 cgroup`
 * field: 0 when by_cgroup is off, CGROUP_FOLDED_ID (tag "other") once
 * max_cgroups ids hold a series.
 *
 * The `cgroups` globs are judged in user space, against paths the kernel
 * does not know; their verdicts arrive in cgroup_excluded (ids running at
 * start before load, later ones at the next gather). Only the exclusions are
 * kept, so an id user space has not judged yet is measured meanwhile.
 *
 * Cost when on: one helper call per operation (cgroup_current), one hash
 * lookup with a filter (cgroup_wanted), and cgroup_admit only when a
 * probe's histogram lookup misses. When off, the verifier prunes it all.
 */
#ifndef CGROUP_BPF_H
#define CGROUP_BPF_H

#include "maps.bpf.h" /* map_admit, counter_inc */

/* The key of the series that max_cgroups folds the rest into. */
#define CGROUP_FOLDED_ID (~0ULL)

enum cgroup_counter {
	CGROUP_FOLDED,   /* samples recorded as cgroup="other": max_cgroups reached */
	CGROUP_EXCLUDED, /* operations not measured: their cgroup matches no `cgroups` glob */
	CGROUP_COUNTERS,
};

/* Knobs, set by user space before load. */
const volatile bool by_cgroup = false;
const volatile bool filter_cgroups = false;

/* Ids whose path matches no `cgroups` glob; sized and filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_excluded SEC(".maps");

/* The ids that hold a series: max_entries = max_cgroups. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGROUP_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} cgroup_counters SEC(".maps");

/* The current task's cgroup v2 id, or 0 when by_cgroup is off. */
static __always_inline __u64 cgroup_current(void)
{
	return by_cgroup ? bpf_get_current_cgroup_id() : 0;
}

/* Whether operations of cgroup id are measured; an excluded one is counted. */
static __always_inline bool cgroup_wanted(__u64 id)
{
	if (!filter_cgroups || !bpf_map_lookup_elem(&cgroup_excluded, &id))
		return true;
	counter_inc(&cgroup_counters, CGROUP_EXCLUDED);
	return false;
}

/*
 * The cgroup field of a new series' key: id while max_cgroups allows,
 * CGROUP_FOLDED_ID (counted) past it. Call it only when the histogram
 * lookup with id missed: a folded id misses every time, so every folded
 * sample is counted.
 */
static __always_inline __u64 cgroup_admit(__u64 id)
{
	if (!by_cgroup || map_admit(&cgroup_slots, &id))
		return id;
	counter_inc(&cgroup_counters, CGROUP_FOLDED);
	return CGROUP_FOLDED_ID;
}

#endif /* CGROUP_BPF_H */
