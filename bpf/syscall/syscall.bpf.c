//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Syscall probe: latency of the configured syscalls, per syscall and task
 * comm (and cgroup, with by_cgroup: the thread's own, at entry).
 *
 * sys_enter filters cheapest first (syscall number, TGID, comm through the
 * shared glob automaton of comm_glob.bpf.h, cgroup),
 * then stamps start time, number and comm into the thread's start record
 * (task_starts.bpf.h): in task storage where the kernel has it, else in a
 * hash keyed by thread id that counts the records it has no room for (never
 * an LRU: it would evict the longest syscall in flight without a trace).
 * sys_exit turns a stamped record into a sample and marks it consumed; the
 * record stays for the thread's next syscall (no allocation, no lock on the
 * hot path) and goes when the thread exits: with it in task storage, by
 * sched_process_exit from the hash. An exit without a stamp (attached
 * mid-syscall, filtered out) records nothing.
 * User space refuses exit and exit_group: a stamp never consumed could be
 * taken by a later thread reusing the ID.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "slow_event.bpf.h"
#include "cgroup.bpf.h"
#include "comm_glob.bpf.h"
#include "syscall.h"

/* One per thread inside (or, in task storage, lately in) a timed syscall. */
struct syscall_start {
	__u64 ns; /* 0 once consumed by sys_exit */
	__u32 nr;
	__u32 pad;
	char comm[SYSCALL_COMM_LEN];
	__u64 arg0; /* slow events only: the first argument (often the fd) */
	__u64 cgroup; /* by_cgroup only: the thread's cgroup at entry */
};

#define TASK_START struct syscall_start
#include "task_starts.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Knobs, set by user space before load. */
const volatile bool filter_pids = false;
const volatile bool filter_comms = false;

/* Map sizes below are placeholders: user space sizes them from the config
 * and fills the filters before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u8);
} syscall_wanted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} syscall_pids SEC(".maps");

/* The first max_comms comms seen; later ones fold into comm="other". */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[SYSCALL_COMM_LEN]);
	__type(value, __u8);
} syscall_comm_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct syscall_hist_key);
	__type(value, struct hist);
} syscall_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} syscall_counters SEC(".maps");

static const struct hist empty_hist;

/* The current thread as task storage needs it: a BTF pointer (5.11+, like
 * task storage itself; pruned with the hash). */
static __always_inline struct task_struct *current_task(void)
{
	return task_starts_local ? bpf_get_current_task_btf() : NULL;
}

/*
 * The current thread's comm. From a BTF task pointer (tp_btf) it is two
 * plain loads instead of a helper call; the bytes after the NUL are zeroed
 * here, as the helper does, since kernels that set comm without padding
 * leave old bytes there and the histogram key compares all 16.
 */
static __always_inline void current_comm(struct task_struct *task, char *comm)
{
	bool end = false;

	if (!task) {
		bpf_get_current_comm(comm, SYSCALL_COMM_LEN);
		return;
	}
	__builtin_memcpy(comm, task->comm, SYSCALL_COMM_LEN);
#pragma unroll
	for (int i = 0; i < SYSCALL_COMM_LEN; i++) {
		end |= !comm[i];
		if (end || i == SYSCALL_COMM_LEN - 1)
			comm[i] = 0;
	}
}

/* btf: tp_btf, whose programs read the current task through a BTF pointer. */
static __always_inline int on_enter(void *regs, long id, bool btf)
{
	struct task_struct *task = btf ? bpf_get_current_task_btf() : NULL;
	struct syscall_start *start;
	__u32 nr = (__u32)id;
	char comm[SYSCALL_COMM_LEN];
	__u64 pid_tgid, cgroup;
	__u8 *wanted;

	if (id < 0 || id >= SYSCALL_SLOTS)
		return 0;
	wanted = bpf_map_lookup_elem(&syscall_wanted, &nr);
	if (!wanted || !*wanted)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	if (filter_pids) {
		__u32 tgid = pid_tgid >> 32;

		if (!bpf_map_lookup_elem(&syscall_pids, &tgid))
			return 0;
	}
	current_comm(task, comm);
	if (filter_comms && !comm_glob_wanted(comm))
		return 0;
	cgroup = cgroup_current();
	if (!cgroup_wanted(cgroup))
		return 0;
	/* After the filters: most tasks never get this far. */
	if (in_compat_syscall(task)) {
		counter_inc(&syscall_counters, SYSCALL_COMPAT_SKIPPED);
		return 0;
	}
	/* Counted in task_starts_counters when there is no room. */
	start = task_start_create(task, (__u32)pid_tgid);
	if (!start)
		return 0;
	start->nr = nr;
	start->cgroup = cgroup;
	__builtin_memcpy(start->comm, comm, SYSCALL_COMM_LEN);
	if (slow_ns)
		start->arg0 = syscall_arg0(regs);
	start->ns = bpf_ktime_get_ns();
	return 0;
}

/* In addition to the sample, never instead. */
static __always_inline void slow_syscall(__u64 pid_tgid, struct syscall_start *start,
					 __u64 ns, __u64 end, __u64 cgroup)
{
	struct slow_event *e = slow_reserve(ns, end);

	if (!e)
		return;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	__builtin_memcpy(e->comm, start->comm, sizeof(e->comm));
	e->what = start->nr;
	e->detail = start->arg0;
	e->cgroup = cgroup;
	slow_submit(e);
}

static __always_inline int on_exit(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct syscall_hist_key key = {};
	struct syscall_start *start;
	struct hist *h;
	__u64 ns, end;

	start = task_start_find(current_task(), (__u32)pid_tgid);
	if (!start || !start->ns)
		return 0;
	end = bpf_ktime_get_ns();
	ns = end - start->ns;
	start->ns = 0; /* consumed */
	key.nr = start->nr;
	key.cgroup = start->cgroup;
	__builtin_memcpy(key.comm, start->comm, SYSCALL_COMM_LEN);

	/* A series exists only for an admitted comm and cgroup: the usual
	 * case needs no admission lookup. */
	h = bpf_map_lookup_elem(&syscall_hists, &key);
	if (h) {
		if (slow_wanted(ns))
			slow_syscall(pid_tgid, start, ns, end, key.cgroup);
		hist_record(h, ns, hist_current_epoch());
		return 0;
	}
	if (!map_admit(&syscall_comm_slots, key.comm)) {
		__builtin_memset(key.comm, 0, SYSCALL_COMM_LEN);
		key.comm[SYSCALL_COMM_LEN - 1] = 1; /* see struct syscall_hist_key */
		counter_inc(&syscall_counters, SYSCALL_COMM_FOLDED);
	}
	key.cgroup = cgroup_admit(key.cgroup);
	/* The event carries the cgroup its series is keyed by (or "other"). */
	if (slow_wanted(ns))
		slow_syscall(pid_tgid, start, ns, end, key.cgroup);
	h = map_lookup_or_init(&syscall_hists, &key, &empty_hist);
	if (!h) {
		counter_inc(&syscall_counters, SYSCALL_HIST_FULL);
		return 0;
	}
	hist_record(h, ns, hist_current_epoch());
	return 0;
}

/* sys_enter(struct pt_regs *regs, long id); sys_exit(struct pt_regs *regs, long ret) */

SEC("tp_btf/sys_enter")
int syscall_enter_btf(__u64 *ctx)
{
	return on_enter((void *)ctx[0], (long)ctx[1], true);
}

SEC("tp_btf/sys_exit")
int syscall_exit_btf(__u64 *ctx)
{
	return on_exit();
}

SEC("raw_tp/sys_enter")
int syscall_enter_raw(__u64 *ctx)
{
	return on_enter((void *)ctx[0], (long)ctx[1], false);
}

SEC("raw_tp/sys_exit")
int syscall_exit_raw(__u64 *ctx)
{
	return on_exit();
}

/* sched_process_exit(struct task_struct *p), p the exiting thread, current:
 * its hash record goes (task storage goes with the task; pruned then). */

SEC("tp_btf/sched_process_exit")
int syscall_thread_exit_btf(__u64 *ctx)
{
	task_start_release((__u32)bpf_get_current_pid_tgid());
	return 0;
}

SEC("raw_tp/sched_process_exit")
int syscall_thread_exit_raw(__u64 *ctx)
{
	task_start_release((__u32)bpf_get_current_pid_tgid());
	return 0;
}
