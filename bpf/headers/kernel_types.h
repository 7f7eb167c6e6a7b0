/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few kernel types our programs read, written by hand instead of a
 * multi-megabyte vmlinux.h. Every struct carries preserve_access_index, so
 * field offsets are relocated against the running kernel's BTF at load time
 * (CO-RE): only the fields named here must exist, in any order.
 */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u32 u32;
typedef __u64 u64;
typedef __u32 dev_t;
typedef __u64 sector_t;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
};

/* BPF_MAP_UPDATE_ELEM flags (include/uapi/linux/bpf.h). */
#define BPF_ANY 0
#define BPF_NOEXIST 1

/* include/linux/blkdev.h */
struct gendisk {
	int major;
	int first_minor;
} __attribute__((preserve_access_index));

struct request_queue {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request {
	struct request_queue *q;
	unsigned int cmd_flags;
	unsigned int __data_len;
	__u64 start_time_ns;
	__u64 io_start_time_ns;
} __attribute__((preserve_access_index));

/* include/linux/blk_types.h: bit numbers moved between releases, so they
 * are read through bpf_core_enum_value, never hard-coded. */
enum req_flag_bits {
	__REQ_SYNC,
	__REQ_FUA,
	__REQ_PREFLUSH,
};

/* include/trace/events/block.h, the classic tracepoint records. */
struct trace_entry {
	unsigned short type;
} __attribute__((preserve_access_index));

struct trace_event_raw_block_rq {
	struct trace_entry ent;
	dev_t dev;
	sector_t sector;
	char rwbs[8];
} __attribute__((preserve_access_index));

struct trace_event_raw_block_rq_completion {
	struct trace_entry ent;
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
	char rwbs[8];
} __attribute__((preserve_access_index));

#endif /* KERNEL_TYPES_H */
