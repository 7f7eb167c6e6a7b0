/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Slow events of the TCP probes (slow_event.bpf.h): a connection's peer and
 * ports, and who called connect() where it was kept in process context
 * (the handshake and the round trips end in softirq, on whatever task).
 */
#ifndef TCP_SLOW_BPF_H
#define TCP_SLOW_BPF_H

#include "slow_event.bpf.h"
#include "tcp_peer.bpf.h"

struct tcp_owner {
	__u32 pid;
	__u32 tid;
	char comm[SLOW_COMM_LEN];
};

/* The current task as who's owner (call in connect()'s context). */
static __always_inline void owner_set_current(struct tcp_owner *who)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	who->pid = pid_tgid >> 32;
	who->tid = (__u32)pid_tgid;
	bpf_get_current_comm(who->comm, sizeof(who->comm));
}

/* In addition to the sample, never instead: c's operation of ns, ended at
 * end, as a slow event if it is one; who NULL: the owner is unknown;
 * cgroup: the one its series is keyed by (series_value). */
static __always_inline void slow_conn(const struct tcp_conn *c, __u64 ns, __u64 end, const struct tcp_owner *who,
				      __u64 cgroup)
{
	struct slow_event *e;

	if (!slow_wanted(ns))
		return;
	e = slow_reserve(ns, end);
	if (!e)
		return;
	if (who) {
		e->pid = who->pid;
		e->tid = who->tid;
		__builtin_memcpy(e->comm, who->comm, sizeof(e->comm));
	}
	__builtin_memcpy(e->addr, c->peer.b, sizeof(e->addr));
	e->size = c->rport;
	e->detail = c->lport;
	e->cgroup = cgroup;
	slow_submit(e);
}

#endif /* TCP_SLOW_BPF_H */
