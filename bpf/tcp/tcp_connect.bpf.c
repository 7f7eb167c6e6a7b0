//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcp_connect: handshake latency per peer, and failed connects.
 *
 * One hook, sock:inet_sock_set_state. Active opens: entering SYN_SENT keeps a
 * start time per socket; SYN_SENT -> ESTABLISHED records the latency,
 * SYN_SENT -> CLOSE counts a failure. Passive opens: at SYN_RECV ->
 * ESTABLISHED the kernel has just measured SYN-ACK sent -> ACK received
 * into the new socket's srtt; that one sample is recorded.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "slow_event.bpf.h"
#include "tcp.h"
#include "tcp_peer.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096); /* user space sizes it */
	__type(key, struct tcp_key);
	__type(value, struct hist);
} tcp_connect_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096); /* user space sizes it */
	__type(key, struct tcp_key);
	__type(value, __u64);
} tcp_connect_failed SEC(".maps");

/* Active opens in flight: socket -> time it entered SYN_SENT. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} tcp_syn_sent SEC(".maps");

/* Who called connect(): the task current at SYN_SENT (the handshake ends in
 * softirq, on whatever task). Kept only when slow events are on. */
struct tcp_connector {
	__u32 pid;
	__u32 tid;
	char comm[SLOW_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tcp_connector);
} tcp_connectors SEC(".maps");

static const struct hist empty_hist;

static __always_inline void keep_connector(__u64 id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tcp_connector who = { .pid = pid_tgid >> 32, .tid = (__u32)pid_tgid };

	bpf_get_current_comm(who.comm, sizeof(who.comm));
	bpf_map_update_elem(&tcp_connectors, &id, &who, BPF_ANY);
}

/* In addition to the sample, never instead: the connector kept at SYN_SENT
 * is popped, and a slow handshake sent. */
static __always_inline void slow_connect(__u64 id, struct tcp_conn *c, bool established,
					 __u64 ns, __u64 end)
{
	struct tcp_connector *kept = bpf_map_lookup_elem(&tcp_connectors, &id);
	struct tcp_connector who = {};
	struct slow_event *e;

	if (kept) {
		who = *kept;
		bpf_map_delete_elem(&tcp_connectors, &id);
	}
	if (!established || !slow_wanted(ns))
		return;
	e = slow_reserve(ns, end);
	if (!e)
		return;
	e->pid = who.pid;
	e->tid = who.tid;
	__builtin_memcpy(e->comm, who.comm, sizeof(e->comm));
	__builtin_memcpy(e->addr, c->peer.b, sizeof(e->addr));
	e->size = c->rport;
	e->detail = c->lport;
	slow_submit(e);
}
static const __u64 zero;

static __always_inline void record(struct tcp_key *key, __u64 ns)
{
	struct hist *h = map_lookup_or_init(&tcp_connect_hists, key, &empty_hist);

	if (!h) {
		counter_inc(&tcp_counters, TCP_SERIES_FULL);
		return;
	}
	hist_record(h, ns, hist_current_epoch());
}

static __always_inline void count_failure(struct tcp_key *key)
{
	__u64 *n = map_lookup_or_init(&tcp_connect_failed, key, &zero);

	if (!n) {
		counter_inc(&tcp_counters, TCP_SERIES_FULL);
		return;
	}
	*n += 1;
}

static __always_inline int on_active_end(struct sock *sk, int newstate)
{
	__u64 id = (__u64)sk, now = bpf_ktime_get_ns(), started;
	__u64 *start = bpf_map_lookup_elem(&tcp_syn_sent, &id);
	struct tcp_conn c;
	struct tcp_key key;

	if (!start)
		return 0; /* opened before we attached, or evicted */
	started = *start;
	bpf_map_delete_elem(&tcp_syn_sent, &id);
	/* A connector left by a filtered socket is overwritten at its next
	 * SYN_SENT, or aged out of the LRU. */
	if (!read_conn(sk, &c) || !ports_pass(c.lport, c.rport))
		return 0;
	make_key(&key, &c, c.rport, TCP_DIR_ACTIVE);
	if (newstate == TCP_ESTABLISHED)
		record(&key, now - started);
	else if (newstate == TCP_CLOSE)
		count_failure(&key);
	if (slow_ns)
		slow_connect(id, &c, newstate == TCP_ESTABLISHED, now - started, now);
	return 0;
}

static __always_inline int on_passive_established(struct sock *sk)
{
	__u32 srtt = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us);
	struct tcp_conn c;
	struct tcp_key key;

	if (!read_conn(sk, &c) || !ports_pass(c.lport, c.rport))
		return 0;
	if (!srtt) {
		counter_inc(&tcp_counters, TCP_UNTIMED);
		return 0;
	}
	make_key(&key, &c, c.lport, TCP_DIR_PASSIVE);
	record(&key, (__u64)(srtt >> 3) * 1000);
	return 0;
}

static __always_inline int on_state(struct sock *sk, int oldstate, int newstate)
{
	__u64 id, now;

	if (sk_protocol_of(sk) != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT) {
		/* The local port is not bound yet: filter at the end. */
		id = (__u64)sk;
		now = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&tcp_syn_sent, &id, &now, BPF_ANY))
			counter_inc(&tcp_counters, TCP_INFLIGHT_FULL);
		if (slow_ns)
			keep_connector(id);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT)
		return on_active_end(sk, newstate);
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED)
		return on_passive_established(sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int tcp_connect_btf(__u64 *ctx)
{
	return on_state((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2]);
}

SEC("raw_tp/inet_sock_set_state")
int tcp_connect_raw(__u64 *ctx)
{
	return on_state((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2]);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_connect_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return on_state((struct sock *)BPF_CORE_READ(ctx, skaddr),
			BPF_CORE_READ(ctx, oldstate), BPF_CORE_READ(ctx, newstate));
}
