//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Disk probe: queue time (request created -> issued) and service time
 * (issued -> completed) of every block request, per disk, op and stage.
 *
 * Fast path: one program at completion reads the timestamps the block layer
 * already keeps in struct request; no in-flight map. Where those are missing,
 * user space sets track_starts and attaches insert/issue programs that keep
 * start times in an LRU map (start_times = "auto" attaches them when
 * completions arrive without the kernel's). Each hook comes in three
 * flavours (tp_btf, raw_tp, classic tracepoint); user space loads one.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#define CORE_FIX_BLOCK_RQ_ARGS
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "slow_event.bpf.h"
#include "cgroup.bpf.h"
#include "disk.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Knobs, set by user space before load. */
const volatile bool want_queue = true;
const volatile bool want_service = true;
const volatile bool want_flags = false;
const volatile bool track_starts = false;     /* insert/issue hooks keep start times */
const volatile bool use_kernel_times = true;  /* read rq->start_time_ns, io_start_time_ns */
/* by_cgroup: block_io_start (6.5+) keeps each request's cgroup at creation;
 * without it, block_rq_insert, else block_rq_issue, does. */
const volatile bool cgroup_at_io_start = true;
/* Set at run time once the insert/issue hooks are attached (start_times =
 * "auto" attaches them when completions arrive without kernel timestamps). */
volatile bool starts_kept = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct disk_hist_key);
	__type(value, struct disk_hists);
} disk_hists SEC(".maps");

/*
 * The default path (no by_cgroup, no flags): the series of the disks user
 * space gave rows, in a per-CPU array the verifier inlines instead of the
 * hash. disk_row_of_dev is direct-mapped by a hash of the dev and holds the
 * dev for the compare; a disk without an entry (not seen yet, or its entry
 * another's) is measured through disk_hists, and user space merges both.
 * Both are sized by user space; one entry each when unused.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64 * DISK_OPS);
	__type(key, __u32);
	__type(value, struct disk_hists);
} disk_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct disk_row);
} disk_row_of_dev SEC(".maps");
const volatile bool use_rows = false;
/* disk_row_of_dev's max_entries - 1, a power of two minus one. */
const volatile __u32 row_of_dev_mask = 4095;

/*
 * With a `devices` filter: the disks user space judged unwanted, whose
 * completions the kernel skips (no series, no slow event, no counter). On
 * the rows path a disk here is also marked in its disk_row_of_dev entry
 * (DISK_ROW_EXCLUDED), so the lookup made anyway says so; only a disk
 * without an entry of its own is looked up here.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} disk_excluded SEC(".maps");
const volatile bool filter_devices = false;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct disk_inflight_key);
	__type(value, struct disk_start);
} disk_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DISK_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} disk_counters SEC(".maps");

/*
 * by_cgroup and slow events only (one slot otherwise): each request in
 * flight, in the slot a hash of the request picks, with the cgroup of the
 * task current at its creation and the task that issued it. One array for
 * both, so keeping and taking are one lookup the verifier inlines and plain
 * stores, no hash-map locking; the slot also holds the request, so a
 * request another has displaced is known (and counted): its cgroup ends as
 * "unknown", its slow events go without a task.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct disk_request_slot);
} disk_requests SEC(".maps");
/* disk_requests' max_entries - 1, a power of two minus one (user space). */
const volatile __u32 request_slot_mask = 16383;
/* The kernel has BPF compare-and-swap (5.12+): slots are claimed and freed
 * with it, so every takeover is counted exactly once (swap_tag). */
const volatile bool slot_cmpxchg = false;

/* Keeps struct slow_event in this object's BTF (locals are not), so bpf2go
 * generates the Go type plugins/inputs/ebpf_latency/slowevent checks its
 * decoding against; one object is enough. */
const volatile struct slow_event slow_event_layout;

static const struct disk_hists empty_hists;
static const struct disk_start no_start;

/* REQ_OP_* values have been stable since Linux 4.10 (REQ_OP_BITS = 8). */
#define REQ_OP_MASK 0xff

static __always_inline __u8 op_of(__u32 cmd_flags)
{
	switch (cmd_flags & REQ_OP_MASK) {
	case 0: /* REQ_OP_READ */
		return DISK_OP_READ;
	case 1: /* REQ_OP_WRITE */
		return DISK_OP_WRITE;
	case 2: /* REQ_OP_FLUSH */
		return DISK_OP_FLUSH;
	case 3: /* REQ_OP_DISCARD */
	case 5: /* REQ_OP_SECURE_ERASE */
		return DISK_OP_DISCARD;
	default:
		return DISK_OP_OTHER;
	}
}

static __always_inline __u8 flags_of(__u32 cmd_flags)
{
	__u8 flags = 0;

	if (cmd_flags & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_SYNC)))
		flags |= DISK_FLAG_SYNC;
	if (cmd_flags & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_FUA)))
		flags |= DISK_FLAG_FUA;
	if (cmd_flags & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_PREFLUSH)))
		flags |= DISK_FLAG_PREFLUSH;
	return flags;
}

static __always_inline void slow_request(__u32 dev, __u8 op, __u8 stage, __u64 ns,
					 __u64 end, __u64 cgroup, struct disk_owner *d)
{
	struct slow_event *e;

	if (!slow_wanted(ns))
		return;
	e = slow_reserve(ns, end);
	if (!e)
		return;
	e->pid = d->pid;
	e->tid = d->tid;
	__builtin_memcpy(e->comm, d->comm, sizeof(e->comm));
	e->dev = dev;
	e->what = op | (__u32)stage << 8;
	e->detail = d->sector;
	e->size = d->bytes;
	e->cgroup = cgroup;
	slow_submit(e);
}

/* Slow events of one finished request, in addition to its samples: one
 * block behind one knob check, so that off costs a single load. d: its
 * owner (take_request); cgroup: the one its series is keyed by
 * (record_request). */
static __always_inline void slow_requests(struct disk_owner *d, __u32 dev, __u8 op, __u64 cgroup,
					  __u64 created, __u64 issued, __u64 done)
{
	if (!issued || issued > done)
		return;
	if (want_service)
		slow_request(dev, op, DISK_STAGE_SERVICE, done - issued, done, cgroup, d);
	if (want_queue && created && created <= issued)
		slow_request(dev, op, DISK_STAGE_QUEUE, issued - created, done, cgroup, d);
}

/* The disk_row_of_dev entry of a disk; NULL when it has none (no row, or
 * the entry is another disk's or free: the dev is checked). User space
 * hashes the same (rowEntry). */
static __always_inline struct disk_row *row_entry(__u32 dev)
{
	__u32 idx = (__u32)(((__u64)dev * 0x9E3779B97F4A7C15ULL) >> 32) & row_of_dev_mask;
	struct disk_row *r = bpf_map_lookup_elem(&disk_row_of_dev, &idx);

	if (!r || r->dev != dev || !dev)
		return NULL;
	return r;
}

/* Whether the `devices` filter leaves dev out; r: its row entry (rows
 * path), which says so itself. Compiled out without a filter. */
static __always_inline bool disk_unwanted(__u32 dev, struct disk_row *r)
{
	if (!filter_devices)
		return false;
	if (r)
		return r->row == DISK_ROW_EXCLUDED;
	return bpf_map_lookup_elem(&disk_excluded, &dev) != NULL;
}

/* The series of a request: its disk's row where it has one (r, its
 * entry), else the hash; with by_cgroup, a new cgroup takes a max_cgroups
 * slot (or folds) only when its series is not there yet. */
static __always_inline struct disk_hists *series_of(struct disk_hist_key *key, struct disk_row *r)
{
	struct disk_hists *h;
	__u32 idx;

	if (r) {
		idx = r->row * DISK_OPS + key->op;
		h = bpf_map_lookup_elem(&disk_rows, &idx);
		if (h)
			return h;
	}
	if (!by_cgroup)
		return map_lookup_or_init(&disk_hists, key, &empty_hists);
	h = bpf_map_lookup_elem(&disk_hists, key);
	if (h)
		return h;
	if (key->cgroup != DISK_CGROUP_UNKNOWN_ID && key->cgroup != DISK_CGROUP_EXCLUDED_ID)
		key->cgroup = cgroup_admit(key->cgroup);
	return map_lookup_or_init(&disk_hists, key, &empty_hists);
}

/* Record both stages of one finished request; 0 means "time unknown".
 * Returns the cgroup its series is keyed by (folded past max_cgroups). */
static __always_inline __u64 record_request(__u32 dev, struct disk_row *r, __u8 op, __u8 flags,
					   __u64 cgroup, __u64 created, __u64 issued, __u64 done,
					   bool empty_preflush)
{
	struct disk_hist_key key = { .cgroup = cgroup, .dev = dev, .op = op, .flags = flags };
	bool untimed = !issued || issued > done;
	struct disk_hists *h;
	__u64 epoch;

	if (untimed && empty_preflush) {
		/* The flush machinery ends a data-less preflush write unissued
		 * (and strips its PREFLUSH flag): its flush is a request of its
		 * own, measured as op=flush. */
		counter_inc(&disk_counters, DISK_PREFLUSH_UNISSUED);
		return key.cgroup;
	}
	h = series_of(&key, r);
	if (!h) {
		counter_inc(&disk_counters, DISK_HIST_FULL);
		return key.cgroup;
	}
	h->completions++;
	if (cgroup == DISK_CGROUP_EXCLUDED_ID)
		return key.cgroup;
	if (untimed) {
		counter_inc(&disk_counters, DISK_UNTIMED);
		return key.cgroup;
	}
	epoch = hist_current_epoch();
	if (want_service)
		hist_record_into(&h->stage[DISK_STAGE_SERVICE],
				 h->slots + DISK_STAGE_SERVICE * hist_slots(), done - issued, epoch);
	if (want_queue && created && created <= issued)
		hist_record_into(&h->stage[DISK_STAGE_QUEUE],
				 h->slots + DISK_STAGE_QUEUE * hist_slots(), issued - created, epoch);
	return key.cgroup;
}

static __always_inline void keep_start(struct disk_inflight_key *key, bool issue, __u64 end_sector)
{
	__u64 now = bpf_ktime_get_ns();
	struct disk_start *start = map_lookup_or_init(&disk_inflight, key, &no_start);

	if (!start) {
		counter_inc(&disk_counters, DISK_INFLIGHT_FULL);
		return;
	}
	if (issue)
		start->issue_ns = now;
	else
		start->insert_ns = now;
	start->end_sector = end_sector;
}

/* Pop what keep_start stored; zeroes when nothing was kept. */
static __always_inline struct disk_start take_start(struct disk_inflight_key *key)
{
	struct disk_start found = {};
	struct disk_start *start = bpf_map_lookup_elem(&disk_inflight, key);

	if (start) {
		found = *start;
		bpf_map_delete_elem(&disk_inflight, key);
	}
	return found;
}

/*
 * The disk_requests slot of a request and its tag there: one multiplicative
 * hash of its key picks both. The hash is a bijection of the request pointer
 * (tp_btf, raw_tp: sector 0), so two requests never share a tag; under
 * classic tracepoints two would need equal dev/op/sector mixes to 64 bits.
 */
static __always_inline struct disk_request_slot *request_slot(struct disk_inflight_key *key,
							       __u64 *tag)
{
	__u64 id, h;
	__u32 idx;

	/* Under tp_btf the verifier types the request pointer as such and
	 * allows no arithmetic on it: hash a copy read as plain bytes. */
	bpf_probe_read_kernel(&id, sizeof(id), &key->id);
	h = (id ^ (key->sector * 0x9E3779B97F4A7C15ULL)) * 0x9E3779B97F4A7C15ULL;
	idx = (__u32)(h >> 32) & request_slot_mask;
	*tag = h << 2;

	return bpf_map_lookup_elem(&disk_requests, &idx);
}

/* Replace the slot's tag word old by new; false when another CPU changed it
 * first. With compare-and-swap (Linux 5.12+, always there when slow events
 * are on) every takeover is decided once and counted once; older kernels
 * store plainly, where two claims at the same instant may go uncounted
 * (by_cgroup only). */
static __always_inline bool swap_tag(struct disk_request_slot *s, __u64 old, __u64 new)
{
	if (slot_cmpxchg)
		return slow_cmpxchg(&s->tag, old, new) == old;
	s->tag = new;
	return true;
}

/* What a request lost when its slot went to another: the DISK_KEPT_* bits. */
static __always_inline void count_lost(__u64 kept)
{
	if (kept & DISK_KEPT_CGROUP)
		counter_inc(&disk_counters, DISK_CGROUP_INFLIGHT_FULL);
	if (kept & DISK_KEPT_OWNER)
		counter_inc(&disk_counters, DISK_OWNER_INFLIGHT_FULL);
}

/* Make s hold the request tagged tag, with the DISK_KEPT_* bits kept added
 * to what it already kept there (*had). A request still in the slot loses
 * what it kept; a claim another CPU beat loses this request's kept. Both
 * are counted. False when this request does not hold s. */
static __always_inline bool claim_slot(struct disk_request_slot *s, __u64 tag, __u64 kept,
				       __u64 *had)
{
	__u64 old = *(volatile __u64 *)&s->tag;
	bool held = (old & ~(__u64)DISK_KEPT_ALL) == tag;
	__u64 new;

	*had = held ? old & DISK_KEPT_ALL : 0;
	new = tag | kept | *had;
	if (old == new)
		return true;
	if (!swap_tag(s, old, new)) {
		count_lost(kept & ~*had); /* what it had, the taker counted */
		return false;
	}
	if (!held)
		count_lost(old & DISK_KEPT_ALL);
	return true;
}

/*
 * Keep what this hook knows of a request in its slot. cgroup (by_cgroup):
 * the cgroup of the task current at the request's creation (block_io_start
 * runs in the submitter's context); the insert/issue fallback keeps
 * insert's, else issue's (first = false at issue: a cgroup already kept
 * stays). owner (slow events, at issue): the current task and the whole
 * request's place and size. A slot held by another request is taken over
 * and counted (claim_slot).
 */
static __always_inline void keep_request(struct disk_inflight_key *key, bool cgroup, bool first,
					 bool owner, __u64 sector, __u32 bytes)
{
	struct disk_request_slot *s;
	__u64 pid_tgid, tag, had;

	cgroup = cgroup && by_cgroup;
	owner = owner && slow_ns;
	if (!cgroup && !owner)
		return;
	s = request_slot(key, &tag);
	if (!s)
		return;
	if (!claim_slot(s, tag, (cgroup ? DISK_KEPT_CGROUP : 0) | (owner ? DISK_KEPT_OWNER : 0), &had))
		return;
	if (cgroup && (first || !(had & DISK_KEPT_CGROUP)))
		s->cgroup = cgroup_current();
	if (owner) {
		pid_tgid = bpf_get_current_pid_tgid();
		s->owner.sector = sector;
		s->owner.bytes = bytes;
		s->owner.pid = pid_tgid >> 32;
		s->owner.tid = (__u32)pid_tgid;
		bpf_get_current_comm(s->owner.comm, sizeof(s->owner.comm));
	}
}

/*
 * Take what keep_request kept of a finished request, freeing its slot, in
 * one lookup. Returns the cgroup series key: its kept cgroup,
 * DISK_CGROUP_UNKNOWN_ID (counted) without one, DISK_CGROUP_EXCLUDED_ID
 * when `cgroups` excludes it; 0 when by_cgroup is off. With slow events,
 * *owner becomes the kept owner; without one (issued before attach, or its
 * slot taken over) it keeps what the caller filled in from the completion,
 * pid 0. A request of an unwanted disk (!wanted) only frees its slot.
 */
static __always_inline __u64 take_request(struct disk_inflight_key *key, struct disk_owner *owner,
					 bool wanted)
{
	struct disk_request_slot *s;
	__u64 id = DISK_CGROUP_UNKNOWN_ID;
	__u64 kept = 0, tag, word;

	if (!by_cgroup && !slow_ns)
		return 0;
	s = request_slot(key, &tag);
	if (s) {
		word = *(volatile __u64 *)&s->tag;
		if ((word & ~(__u64)DISK_KEPT_ALL) == tag) {
			kept = word & DISK_KEPT_ALL;
			id = s->cgroup;
			if (slow_ns && (kept & DISK_KEPT_OWNER))
				*owner = s->owner;
			if (!swap_tag(s, word, 0)) {
				/* Taken over while read (and counted by the taker). */
				kept = 0;
				*owner = (struct disk_owner){ .sector = owner->sector,
							      .bytes = owner->bytes };
			}
		}
	}
	if (!by_cgroup || !wanted)
		return 0;
	if (!(kept & DISK_KEPT_CGROUP)) {
		counter_inc(&disk_counters, DISK_CGROUP_UNKNOWN);
		return DISK_CGROUP_UNKNOWN_ID;
	}
	return cgroup_wanted(id) ? id : DISK_CGROUP_EXCLUDED_ID;
}

/* Classic tracepoints: a partial completion moved the request's key on,
 * and its slot's contents with it. */
static __always_inline void move_request(struct disk_inflight_key *key, __u32 nr_sector)
{
	struct disk_inflight_key rest = *key;
	struct disk_request_slot *s;
	struct disk_request_slot moved;
	__u64 tag, word, had;

	s = request_slot(key, &tag);
	if (!s)
		return;
	word = *(volatile __u64 *)&s->tag;
	if ((word & ~(__u64)DISK_KEPT_ALL) != tag)
		return;
	moved = *s;
	if (!swap_tag(s, word, 0))
		return; /* taken over, counted by the taker */
	rest.sector = key->sector + nr_sector;
	s = request_slot(&rest, &tag);
	if (!s) {
		count_lost(word & DISK_KEPT_ALL);
		return;
	}
	if (!claim_slot(s, tag, word & DISK_KEPT_ALL, &had))
		return;
	s->cgroup = moved.cgroup;
	s->owner = moved.owner;
}

/* ---- tp_btf and raw_tp: the request itself is at hand ---- */

/*
 * One body for tp_btf and raw_tp. Under tp_btf (btf = true, a constant the
 * compiler folds) the request's fields are plain loads the verifier checks
 * against BTF, several times cheaper than the probe-read helper calls raw_tp
 * needs. RQ_READ picks one or the other.
 */
#define RQ_READ(btf, ptr, field) ((btf) ? (ptr)->field : BPF_CORE_READ(ptr, field))

static __always_inline int on_rq_created(struct request *rq)
{
	struct disk_inflight_key key = { .id = (__u64)rq };

	keep_request(&key, true, true, false, 0, 0);
	return 0;
}

static __always_inline int on_rq_start(struct request *rq, bool issue, bool btf)
{
	struct disk_inflight_key key = { .id = (__u64)rq };
	bool owner = slow_ns && issue;

	if (track_starts && starts_kept)
		keep_start(&key, issue, 0);
	keep_request(&key, !cgroup_at_io_start, !issue, owner, owner ? RQ_READ(btf, rq, __sector) : 0,
		     owner ? RQ_READ(btf, rq, __data_len) : 0);
	return 0;
}

/* A request of a disk the `devices` filter leaves out: what was kept of
 * it is freed (a slot left would count as taken over later), nothing is
 * recorded or counted. */
static __always_inline void forget_request(struct disk_inflight_key *key)
{
	struct disk_owner owner = {};

	if (track_starts && starts_kept)
		take_start(key);
	take_request(key, &owner, false);
}

static __always_inline int on_rq_complete(struct request *rq, unsigned int nr_bytes, bool btf)
{
	struct disk_inflight_key rq_key = { .id = (__u64)rq };
	struct disk_owner owner = {};
	__u64 done = bpf_ktime_get_ns();
	__u64 created = 0, issued = 0, cgroup, series;
	struct disk_row *row = NULL;
	bool empty_preflush;
	__u32 cmd_flags, dev;
	__u8 op;

	/* A partial completion leaves the request in flight: wait for the last. */
	if (nr_bytes < RQ_READ(btf, rq, __data_len)) {
		counter_inc(&disk_counters, DISK_PARTIAL);
		return 0;
	}
	dev = request_devt(rq, btf);
	if (use_rows)
		row = row_entry(dev);
	if (disk_unwanted(dev, row)) {
		forget_request(&rq_key);
		return 0;
	}
	cmd_flags = RQ_READ(btf, rq, cmd_flags);
	op = op_of(cmd_flags);
	if (use_kernel_times && request_has_timestamps()) {
		created = RQ_READ(btf, rq, start_time_ns);
		issued = RQ_READ(btf, rq, io_start_time_ns);
		/* A creation stamp left by an earlier request would make a queue
		 * time of minutes (counted only where a queue sample was due).
		 * The flush machinery's REQ_OP_FLUSH request is initialised
		 * afresh, stamp included, at every kick. */
		if (want_queue && created && issued && op != DISK_OP_FLUSH &&
		    !request_start_is_own(rq, btf)) {
			counter_inc(&disk_counters, DISK_STALE_START);
			created = 0;
		}
	}
	if (track_starts && starts_kept) {
		struct disk_start kept = take_start(&rq_key);

		if (!created)
			created = kept.insert_ns;
		if (!issued)
			issued = kept.issue_ns;
	}
	empty_preflush = !nr_bytes && op == DISK_OP_WRITE;
	if (slow_ns) {
		owner.sector = RQ_READ(btf, rq, __sector);
		owner.bytes = nr_bytes;
	}
	cgroup = take_request(&rq_key, &owner, true);
	series = record_request(dev, row, op, want_flags ? flags_of(cmd_flags) : 0, cgroup, created, issued,
				done, empty_preflush);
	if (slow_ns && cgroup != DISK_CGROUP_EXCLUDED_ID)
		slow_requests(&owner, dev, op, series, created, issued, done);
	return 0;
}

SEC("tp_btf/block_io_start")
int disk_created_btf(__u64 *ctx)
{
	return on_rq_created((struct request *)ctx[0]);
}

SEC("raw_tp/block_io_start")
int disk_created_raw(__u64 *ctx)
{
	return on_rq_created((struct request *)ctx[0]);
}

SEC("tp_btf/block_rq_insert")
int disk_insert_btf(__u64 *ctx)
{
	return WITH_BLOCK_RQ_ARG(ctx, on_rq_start, false, true);
}

SEC("tp_btf/block_rq_issue")
int disk_issue_btf(__u64 *ctx)
{
	return WITH_BLOCK_RQ_ARG(ctx, on_rq_start, true, true);
}

SEC("tp_btf/block_rq_complete")
int disk_complete_btf(__u64 *ctx)
{
	return on_rq_complete((struct request *)ctx[0], (unsigned int)ctx[2], true);
}

SEC("raw_tp/block_rq_insert")
int disk_insert_raw(__u64 *ctx)
{
	return WITH_BLOCK_RQ_ARG(ctx, on_rq_start, false, false);
}

SEC("raw_tp/block_rq_issue")
int disk_issue_raw(__u64 *ctx)
{
	return WITH_BLOCK_RQ_ARG(ctx, on_rq_start, true, false);
}

SEC("raw_tp/block_rq_complete")
int disk_complete_raw(__u64 *ctx)
{
	return on_rq_complete((struct request *)ctx[0], (unsigned int)ctx[2], false);
}

/* ---- classic tracepoints: only dev, sector, sector count and rwbs are at hand ---- */

struct rwbs_decoded {
	__u8 op;
	__u8 flags;
};

/* Parse blk_fill_rwbs(): [F=preflush] op-letter [F=fua] [A] [S=sync] ... */
static __always_inline struct rwbs_decoded decode_rwbs(const char *rwbs)
{
	struct rwbs_decoded d = { .op = DISK_OP_OTHER };
	int i = 0;
	char c;

	if (rwbs[0] == 'F' && (rwbs[1] == 'W' || rwbs[1] == 'R' || rwbs[1] == 'D' ||
			       rwbs[1] == 'F' || rwbs[1] == 'N')) {
		d.flags |= DISK_FLAG_PREFLUSH;
		i = 1;
	}
	c = rwbs[i & 1];
	if (c == 'R')
		d.op = DISK_OP_READ;
	else if (c == 'W')
		d.op = DISK_OP_WRITE;
	else if (c == 'F')
		d.op = DISK_OP_FLUSH;
	else if (c == 'D')
		d.op = DISK_OP_DISCARD;
#pragma unroll
	for (int j = 1; j < 7; j++) {
		if (j <= i)
			continue;
		c = rwbs[j];
		if (c == 0)
			break;
		if (c == 'F')
			d.flags |= DISK_FLAG_FUA;
		else if (c == 'S')
			d.flags |= DISK_FLAG_SYNC;
	}
	return d;
}

/*
 * Without the request pointer, a request is known by disk, op and sector.
 * A flush shows sector 0 at issue and ~0 at completion: fold both to 0.
 */
static __always_inline struct disk_inflight_key classic_key(__u32 dev, __u8 op, __u64 sector)
{
	struct disk_inflight_key key = {
		.id = ((__u64)dev << 8) | op,
		.sector = sector == ~0ULL ? 0 : sector,
	};
	return key;
}

static __always_inline int on_classic_start(struct trace_event_raw_block_rq *ctx, bool issue)
{
	__u64 sector = BPF_CORE_READ(ctx, sector);
	char rwbs[8];
	struct rwbs_decoded d;
	struct disk_inflight_key key;
	__u32 nr_sector;

	bpf_core_read(rwbs, sizeof(rwbs), &ctx->rwbs);
	d = decode_rwbs(rwbs);
	key = classic_key(BPF_CORE_READ(ctx, dev), d.op, sector);
	nr_sector = BPF_CORE_READ(ctx, nr_sector);
	keep_start(&key, issue, key.sector + nr_sector);
	keep_request(&key, !cgroup_at_io_start, !issue, issue, key.sector, nr_sector * 512);
	return 0;
}

/*
 * A completion short of the request's end (kept at insert/issue) is partial:
 * the request goes on from the first sector not done, so its start times move
 * to that key and the last completion measures it. True when it was partial.
 */
static __always_inline bool classic_partial(struct disk_inflight_key *key, __u32 nr_sector)
{
	struct disk_start *start = bpf_map_lookup_elem(&disk_inflight, key);
	struct disk_inflight_key rest = *key;
	struct disk_start moved;

	if (!start || !nr_sector || start->end_sector <= key->sector + nr_sector)
		return false;
	moved = *start;
	rest.sector = key->sector + nr_sector;
	bpf_map_delete_elem(&disk_inflight, key);
	if (bpf_map_update_elem(&disk_inflight, &rest, &moved, BPF_ANY))
		counter_inc(&disk_counters, DISK_INFLIGHT_FULL);
	counter_inc(&disk_counters, DISK_PARTIAL);
	return true;
}

SEC("tracepoint/block/block_rq_insert")
int disk_insert_tp(struct trace_event_raw_block_rq *ctx)
{
	return on_classic_start(ctx, false);
}

SEC("tracepoint/block/block_rq_issue")
int disk_issue_tp(struct trace_event_raw_block_rq *ctx)
{
	return on_classic_start(ctx, true);
}

SEC("tracepoint/block/block_io_start")
int disk_created_tp(struct trace_event_raw_block_rq *ctx)
{
	char rwbs[8];
	struct disk_inflight_key key;

	bpf_core_read(rwbs, sizeof(rwbs), &ctx->rwbs);
	key = classic_key(BPF_CORE_READ(ctx, dev), decode_rwbs(rwbs).op, BPF_CORE_READ(ctx, sector));
	keep_request(&key, true, true, false, 0, 0);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int disk_complete_tp(struct trace_event_raw_block_rq_completion *ctx)
{
	__u64 done = bpf_ktime_get_ns();
	char rwbs[8];
	struct rwbs_decoded d;
	struct disk_inflight_key key;
	struct disk_start kept;
	struct disk_owner owner = {};
	struct disk_row *row = NULL;
	__u64 cgroup, series;
	__u32 dev = BPF_CORE_READ(ctx, dev);
	__u32 nr_sector = BPF_CORE_READ(ctx, nr_sector);

	bpf_core_read(rwbs, sizeof(rwbs), &ctx->rwbs);
	d = decode_rwbs(rwbs);
	key = classic_key(dev, d.op, BPF_CORE_READ(ctx, sector));
	if (use_rows)
		row = row_entry(dev);
	if (disk_unwanted(dev, row)) {
		forget_request(&key);
		return 0;
	}
	if (classic_partial(&key, nr_sector)) {
		if (slow_ns || by_cgroup)
			move_request(&key, nr_sector);
		return 0;
	}
	kept = take_start(&key);
	owner.sector = key.sector;
	owner.bytes = nr_sector * 512;
	cgroup = take_request(&key, &owner, true);
	series = record_request(dev, row, d.op, want_flags ? d.flags : 0, cgroup, kept.insert_ns,
				kept.issue_ns, done, d.op == DISK_OP_WRITE && !nr_sector);
	if (slow_ns && cgroup != DISK_CGROUP_EXCLUDED_ID)
		slow_requests(&owner, dev, d.op, series, kept.insert_ns, kept.issue_ns, done);
	return 0;
}
