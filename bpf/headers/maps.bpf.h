/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef MAPS_BPF_H
#define MAPS_BPF_H

/* Look key up, creating it from init first if absent; NULL when the map is full. */
static __always_inline void *map_lookup_or_init(void *map, const void *key, const void *init)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	/* EEXIST from a racing CPU is fine: the lookup below finds its entry. */
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#define MAPS_EEXIST 17 /* errno; no libc headers in BPF programs */

/*
 * Whether key is in the bounded set map, or could still be added to it: the
 * admission test of every cardinality cap (max_comms, max_peers). A full map
 * answers false, and the caller folds the key into "other".
 */
static __always_inline bool map_admit(void *map, const void *key)
{
	__u8 one = 1;
	long err;

	if (bpf_map_lookup_elem(map, key))
		return true;
	/* EEXIST: another CPU admitted the same key meanwhile. */
	err = bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
	return !err || err == -MAPS_EEXIST;
}

/* Bump counter idx of a per-CPU array of __u64. */
static __always_inline void counter_inc(void *map, __u32 idx)
{
	__u64 *value = bpf_map_lookup_elem(map, &idx);

	if (value)
		*value += 1;
}

#endif /* MAPS_BPF_H */
