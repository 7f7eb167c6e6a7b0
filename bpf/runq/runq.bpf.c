//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Run-queue probe: how long a runnable task waits for a CPU, from the moment
 * it is queued (woken, newly created, or switched out while still runnable)
 * until it is switched in.
 *
 * Best (tp_btf, CONFIG_SCHED_INFO and CONFIG_FAIR_GROUP_SCHED): no enqueue
 * time of our own. The scheduler stamps every enqueue itself
 * (task->sched_info.last_queued = rq_clock) and clears the stamp only in
 * sched_info_arrive, after sched_switch fired; __schedule has just updated
 * the rq clock, so one sched_switch program takes the wait as rq->clock
 * minus the stamp: both the rq clock of next's CPU, never mixed with
 * bpf_ktime_get_ns. A queued task moved to another CPU is stamped anew
 * there (counted, runq_migrate_btf).
 *
 * Fallback: enqueue times of our own, per-thread records
 * (task_starts.bpf.h): in task storage under tp_btf, whose arguments are
 * the BTF task pointers it needs, else in a hash of the queued threads.
 * Those hooks come in two flavours (tp_btf, raw_tp); user space loads one.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "slow_event.bpf.h"
#include "cgroup.bpf.h"
#include "runq.h"
#include "comm_glob.bpf.h"

#define TASK_START __u64 /* enqueue time; 0 once consumed */
#include "task_starts.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Comm globs (comm_glob.bpf.h); no filter: one series for all. */
const volatile bool comm_filter = false;

/* Tests only (0 otherwise, and pruned): the clock read at switch-in lags
 * this far, so that enqueue times look later than it (clock_backwards). */
const volatile __u64 test_clock_lag_ns = 0;

/* (max_comms + 1 for "other") x (max_cgroups + 1); set by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65);
	__type(key, struct runq_hist_key);
	__type(value, struct hist);
} runq_hists SEC(".maps");

/*
 * The one series of a probe without comms or by_cgroup: a per-CPU array,
 * no key to build and hash (the per-CPU hash lookup was about 100 ns of a
 * switch-in's 215). runq_hists is then left empty.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} runq_single SEC(".maps");

/* The comms that hold a series: max_entries = max_comms. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[RUNQ_COMM_LEN]);
	__type(value, __u8);
} runq_comm_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RUNQ_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} runq_counters SEC(".maps");

static const struct hist empty_hist;

/*
 * The series of key. Only a new one is admitted: its comm under max_comms
 * (else folded into "other", counted) and its cgroup under max_cgroups.
 */
static __always_inline struct hist *series_of(struct runq_hist_key *key)
{
	struct hist *h = bpf_map_lookup_elem(&runq_hists, key);

	if (h)
		return h;
	if (key->series == RUNQ_SERIES_COMM && !map_admit(&runq_comm_slots, key->comm)) {
		__builtin_memset(key->comm, 0, sizeof(key->comm));
		key->series = RUNQ_SERIES_OTHER;
		counter_inc(&runq_counters, RUNQ_COMM_FOLDED);
	}
	key->cgroup = cgroup_admit(key->cgroup);
	return map_lookup_or_init(&runq_hists, key, &empty_hist);
}

/* The task that waited, in addition to its sample, never instead. */
/* The event's end time is bpf_ktime_get_ns (user space converts it), read
 * here and only here: the stamp flavour's clock is the rq clock. */
static __always_inline void slow_wait(struct task_struct *t, __u64 ns, __u64 cgroup, bool btf)
{
	struct slow_event *e = slow_reserve(ns, bpf_ktime_get_ns());

	if (!e)
		return;
	e->pid = btf ? t->tgid : BPF_CORE_READ(t, tgid);
	e->tid = btf ? t->pid : BPF_CORE_READ(t, pid);
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	e->cgroup = cgroup;
	slow_submit(e);
}

/* Whether comms leaves t measured; its comm goes to key when filtering. */
static __always_inline bool comm_measured(struct task_struct *t, struct runq_hist_key *key)
{
	if (!comm_filter)
		return true;
	BPF_CORE_READ_STR_INTO(&key->comm, t, comm);
	if (!comm_glob_wanted(key->comm))
		return false;
	key->series = RUNQ_SERIES_COMM;
	return true;
}

static __always_inline void record(struct task_struct *t, __u64 ns, bool btf)
{
	struct runq_hist_key key = {};
	struct hist *h;
	__u32 zero = 0;

	if (!comm_filter && !by_cgroup) {
		if (slow_wanted(ns))
			slow_wait(t, ns, 0, btf);
		h = bpf_map_lookup_elem(&runq_single, &zero);
		if (h)
			hist_record(h, ns, hist_current_epoch());
		return;
	}
	if (!comm_measured(t, &key))
		return;
	if (by_cgroup) {
		key.cgroup = task_cgroup_id(t, btf);
		if (!cgroup_wanted(key.cgroup))
			return;
	}
	h = series_of(&key);
	/* After admission: the event carries its series' cgroup. */
	if (slow_wanted(ns))
		slow_wait(t, ns, key.cgroup, btf);
	if (!h) {
		counter_inc(&runq_counters, RUNQ_HIST_FULL);
		return;
	}
	hist_record(h, ns, hist_current_epoch());
}

/* btf: t is a tp_btf argument, read with plain loads instead of helpers. */
static __always_inline __u32 task_pid(struct task_struct *t, bool btf)
{
	return btf ? t->pid : BPF_CORE_READ(t, pid);
}

/* Records now - queued, both from one clock; a queued time later than now
 * is counted, never recorded. */
static __always_inline void record_wait(struct task_struct *t, __u64 queued, __u64 now, bool btf)
{
	if (test_clock_lag_ns)
		now = now > test_clock_lag_ns ? now - test_clock_lag_ns : 0;
	if (queued > now) {
		counter_inc(&runq_counters, RUNQ_CLOCK_BACKWARDS);
		return;
	}
	record(t, now - queued, btf);
}

static __always_inline void enqueue(struct task_struct *t, __u32 pid)
{
	__u64 *start;

	/* Every CPU's idle task has pid 0, and idle never waits in a queue. */
	if (!pid)
		return;
	start = task_start_create(t, pid);
	if (start)
		*start = bpf_ktime_get_ns();
}

static __always_inline int on_wakeup(struct task_struct *t, bool btf)
{
	enqueue(t, task_pid(t, btf));
	return 0;
}

static __always_inline int on_switch(bool preempt, struct task_struct *prev,
				     struct task_struct *next, bool btf)
{
	__u32 pid = task_pid(prev, btf);
	__u64 *start, queued;

	/* A preempted or still-runnable prev stays queued, with no wakeup to
	 * come. One going to sleep or exiting is not queued: a hash record
	 * left from a wakeup that found it still running goes. */
	if (preempt || task_state(prev, btf) == TASK_RUNNING)
		enqueue(prev, pid);
	else if (!task_starts_local && pid)
		task_start_release(pid);

	pid = task_pid(next, btf);
	if (!pid)
		return 0;
	start = task_start_find(next, pid);
	if (!start || !*start) {
		counter_inc(&runq_counters, RUNQ_UNTIMED);
		return 0;
	}
	queued = *start;
	*start = 0;
	task_start_release(pid);
	record_wait(next, queued, bpf_ktime_get_ns(), btf);
	return 0;
}

/*
 * The stamp flavour: next's wait from the scheduler's own enqueue stamp.
 * A task without one (0: not queued through enqueue_task since it last
 * ran, e.g. preempted while already going to sleep) is counted untimed.
 */
static __always_inline int on_switch_stamped(struct task_struct *next)
{
	__u64 queued;

	/* Guards for a kernel user space misjudged: nothing is recorded. */
	if (!bpf_core_field_exists(next->sched_info.last_queued) ||
	    !bpf_core_field_exists(next->se.cfs_rq) || !bpf_core_field_exists(next->se.cfs_rq->rq)) {
		counter_inc(&runq_counters, RUNQ_UNTIMED);
		return 0;
	}
	if (!next->pid)
		return 0;
	queued = next->sched_info.last_queued;
	if (!queued) {
		counter_inc(&runq_counters, RUNQ_UNTIMED);
		return 0;
	}
	/* next runs on this CPU: its cfs_rq's rq is this CPU's, its clock
	 * the one sched_info_arrive reads right after this tracepoint. */
	record_wait(next, queued, next->se.cfs_rq->rq->clock, true);
	return 0;
}

/*
 * sched_switch(bool preempt, prev, next[, unsigned int prev_state since 6.4]):
 * the first three never moved. prev_state is not used: it is read before a
 * pending signal puts prev back to TASK_RUNNING, so prev's own state is truer.
 */

SEC("tp_btf/sched_wakeup")
int runq_wakeup_btf(__u64 *ctx)
{
	return on_wakeup((struct task_struct *)ctx[0], true);
}

SEC("tp_btf/sched_wakeup_new")
int runq_wakeup_new_btf(__u64 *ctx)
{
	return on_wakeup((struct task_struct *)ctx[0], true);
}

SEC("tp_btf/sched_switch")
int runq_switch_btf(__u64 *ctx)
{
	return on_switch((bool)ctx[0], (struct task_struct *)ctx[1], (struct task_struct *)ctx[2], true);
}

SEC("tp_btf/sched_switch")
int runq_switch_stamp_btf(__u64 *ctx)
{
	return on_switch_stamped((struct task_struct *)ctx[2]);
}

/*
 * sched_migrate_task(p, dest_cpu) fires in set_task_cpu. A task moved while
 * queued (load balancing, an affinity change: on_rq is MIGRATING, its stamp
 * already cleared by the dequeue) is stamped anew on the new CPU, so its
 * sample holds only the wait there: counted, for the tasks comms measures.
 * A wakeup choosing another CPU (on_rq 0) splits nothing.
 */
SEC("tp_btf/sched_migrate_task")
int runq_migrate_btf(__u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx[0];
	struct runq_hist_key key = {};

	if (t->on_rq != TASK_ON_RQ_MIGRATING || !comm_measured(t, &key))
		return 0;
	counter_inc(&runq_counters, RUNQ_MIGRATED_WAITS);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int runq_wakeup_raw(__u64 *ctx)
{
	return on_wakeup((struct task_struct *)ctx[0], false);
}

SEC("raw_tp/sched_wakeup_new")
int runq_wakeup_new_raw(__u64 *ctx)
{
	return on_wakeup((struct task_struct *)ctx[0], false);
}

SEC("raw_tp/sched_switch")
int runq_switch_raw(__u64 *ctx)
{
	return on_switch((bool)ctx[0], (struct task_struct *)ctx[1], (struct task_struct *)ctx[2], false);
}
