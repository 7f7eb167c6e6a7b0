/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types the disk probe shares with user space (bpf2go turns them into Go). */
#ifndef DISK_H
#define DISK_H

#include "histogram.h"

enum disk_op {
	DISK_OP_READ,
	DISK_OP_WRITE,
	DISK_OP_FLUSH,
	DISK_OP_DISCARD,
	DISK_OP_OTHER,
	DISK_OPS,
};

enum disk_stage {
	DISK_STAGE_QUEUE,   /* request created (or inserted) -> issued to the driver */
	DISK_STAGE_SERVICE, /* issued -> completed */
	DISK_STAGES,
};

enum disk_flag {
	DISK_FLAG_SYNC = 1,
	DISK_FLAG_FUA = 2,
	DISK_FLAG_PREFLUSH = 4,
};

/* by_cgroup: the key of requests created before attach or not kept for
 * want of room (disk_cgroups full); user space tags them "unknown". */
#define DISK_CGROUP_UNKNOWN_ID 0ULL
/* by_cgroup with `cgroups`: requests of excluded cgroups, counted in
 * completions only (never emitted), so unseen_completions stays exact. */
#define DISK_CGROUP_EXCLUDED_ID (~1ULL)

struct disk_hist_key {
	__u64 cgroup; /* cgroup v2 id of the task that created the request (cgroup.bpf.h); 0 when by_cgroup is off */
	__u32 dev; /* kernel dev_t of the whole disk: MAJOR << 20 | MINOR */
	__u8 op;
	__u8 flags;
	__u8 pad[2];
};

/*
 * Both stages of one series in one value: one map lookup per request. The
 * shape of histogram.h: own fields, the stages' heads, then their slots
 * (stage s's from s * the scheme's slot count), cut to the scheme at load.
 */
struct disk_hists {
	/* Requests finished, measured or not: user space compares this with
	 * the kernel's own count (/sys/block/<dev>/stat) to show completions
	 * the hook never saw. */
	__u64 completions;
	struct hist_head stage[DISK_STAGES];
	__u64 slots[DISK_STAGES * HIST_MAX_SLOTS];
};

/*
 * A disk user space gave rows in disk_rows (the default series path): its
 * series of op o are row * DISK_OPS + o. dev 0: a free entry.
 * row DISK_ROW_EXCLUDED: a disk the `devices` filter leaves out, skipped.
 */
#define DISK_ROW_EXCLUDED 0xffffffffU

struct disk_row {
	__u32 dev;
	__u32 row;
};

/* Start times the probe keeps itself, only where the kernel's are missing. */
struct disk_start {
	__u64 insert_ns;
	__u64 issue_ns;
	/* Classic tracepoints: the sector the request ends at, so a completion
	 * short of it is known to be partial. */
	__u64 end_sector;
};

/* The task current when a request was issued: its slow events' owner. */
struct disk_owner {
	__u64 sector; /* the request's first sector and size, at issue */
	__u32 bytes;
	__u32 pid; /* TGID */
	__u32 tid;
	char comm[16];
};

/* What a disk_requests slot holds for its request: bits of its tag. */
enum disk_kept {
	DISK_KEPT_CGROUP = 1,
	DISK_KEPT_OWNER = 2,
	DISK_KEPT_ALL = 3,
};

/* by_cgroup and slow events: a request in flight, the cgroup of the task
 * that created it and the task that issued it. tag is the request's own
 * (a hash of its disk_inflight_key, shifted left two) or'ed with the
 * DISK_KEPT_* bits saying which of the two fields are valid; 0: a free slot.
 * One word, so taking a slot over and what the loser loses are decided by
 * one compare-and-swap. */
struct disk_request_slot {
	__u64 tag;
	__u64 cgroup;
	struct disk_owner owner;
};

/* The request pointer (tp_btf, raw_tp), or dev/op and sector (classic tracepoints). */
struct disk_inflight_key {
	__u64 id;
	__u64 sector;
};

enum disk_counter {
	DISK_UNTIMED,       /* completions with no issue time: nothing recorded */
	DISK_PREFLUSH_UNISSUED, /* data-less preflush writes ended unissued (expected) */
	DISK_PARTIAL,       /* partial completions skipped (the request goes on) */
	DISK_INFLIGHT_FULL, /* start times not kept: in-flight map full */
	DISK_HIST_FULL,     /* samples lost: histogram map full */
	DISK_STALE_START,   /* kernel creation stamps not the request's own: queue from the probe's insert time, else not measured */
	DISK_CGROUP_INFLIGHT_FULL, /* by_cgroup: a request's cgroup slot taken over by another request in flight */
	DISK_CGROUP_UNKNOWN, /* by_cgroup: completions without a kept cgroup, recorded as cgroup "unknown" */
	DISK_OWNER_INFLIGHT_FULL, /* slow events: a request's owner slot taken over by another request in flight; its events go without a task */
	DISK_COUNTERS,
};

#endif /* DISK_H */
