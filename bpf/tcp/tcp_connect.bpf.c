//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcp_connect: handshake latency per peer, and failed connects.
 *
 * One hook, sock:inet_sock_set_state. Active opens: entering SYN_SENT keeps a
 * start time per socket (below: where); SYN_SENT -> ESTABLISHED records the
 * latency, SYN_SENT -> CLOSE counts a failure. Passive opens: at SYN_RECV ->
 * ESTABLISHED the kernel has just measured SYN-ACK sent -> ACK received
 * into the new socket's srtt; that one sample is recorded.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "histogram.bpf.h"
#include "maps.bpf.h"
#include "tcp.h"
#include "tcp_slow.bpf.h"

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

/* What SYN_SENT keeps for an active open: its start, and who called
 * connect() and from which cgroup (the handshake ends in softirq, on
 * whatever task; kept only when slow events or by_cgroup are on). */
struct tcp_start {
	__u64 ns;     /* 0: none, or already taken */
	__u64 cgroup; /* by_cgroup: the connect() caller's */
	struct tcp_owner who;
};

/* Where start times live, per hook flavour (user space drops the map the
 * attached flavour does not use):
 * - tp_btf, Linux 5.11+: the socket's own storage. It dies with the
 *   socket, so nothing is evicted while the handshake is in flight; a
 *   start the kernel cannot allocate (socket option memory exhausted) is
 *   counted in inflight_full.
 * - older kernels, raw_tp, tracepoint: an LRU hash keyed by socket. When
 *   full it evicts the oldest start, and that connect ends counted in
 *   active_untimed. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_start);
} tcp_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384); /* user space sizes it */
	__type(key, __u64);
	__type(value, struct tcp_start);
} tcp_syn_sent SEC(".maps");

static const struct hist empty_hist;

/* Keep sk's start (in_sk: in its socket storage). */
static __always_inline void keep_start(struct sock *sk, bool in_sk)
{
	struct tcp_start local = {}, *s = &local;
	__u64 id = (__u64)sk;

	if (in_sk) {
		s = bpf_sk_storage_get(&tcp_starts, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
		if (!s) {
			counter_inc(&tcp_counters, TCP_INFLIGHT_FULL);
			return;
		}
	}
	s->ns = bpf_ktime_get_ns();
	s->cgroup = cgroup_current();
	if (slow_ns)
		owner_set_current(&s->who);
	if (!in_sk && bpf_map_update_elem(&tcp_syn_sent, &id, s, BPF_ANY))
		counter_inc(&tcp_counters, TCP_INFLIGHT_FULL);
}

/* Take sk's start into out (the connector too when slow events are on);
 * false when none was kept. */
static __always_inline bool take_start(struct sock *sk, bool in_sk, struct tcp_start *out)
{
	__u64 id = (__u64)sk;
	struct tcp_start *s;

	s = in_sk ? bpf_sk_storage_get(&tcp_starts, sk, NULL, 0) : bpf_map_lookup_elem(&tcp_syn_sent, &id);
	if (!s || !s->ns)
		return false;
	out->ns = s->ns;
	out->cgroup = s->cgroup;
	if (slow_ns)
		out->who = s->who;
	if (in_sk)
		s->ns = 0; /* cheaper than freeing it: the socket's end does */
	else
		bpf_map_delete_elem(&tcp_syn_sent, &id);
	return true;
}

static const __u64 zero;

static __always_inline void record(struct tcp_key *key, __u64 ns)
{
	struct hist *h = series_value(&tcp_connect_hists, key, &empty_hist);

	if (h)
		hist_record(h, ns, hist_current_epoch());
}

static __always_inline void count_failure(struct tcp_key *key)
{
	__u64 *n = series_value(&tcp_connect_failed, key, &zero);

	if (n)
		*n += 1;
}

static __always_inline int on_active_end(struct sock *sk, int newstate, bool in_sk, bool btf)
{
	__u64 now = bpf_ktime_get_ns();
	struct tcp_start start;
	struct tcp_conn c;
	struct tcp_key key;
	bool kept = take_start(sk, in_sk, &start);

	if (!read_conn(sk, &c, btf) || !ports_pass(c.lport, c.rport))
		return 0;
	if (!kept) {
		/* Began before we attached, or evicted from the LRU. */
		counter_inc(&tcp_counters, TCP_ACTIVE_UNTIMED);
		return 0;
	}
	if (!cgroup_wanted(start.cgroup))
		return 0;
	make_key(&key, &c, c.rport, TCP_DIR_ACTIVE, start.cgroup);
	if (newstate == TCP_ESTABLISHED) {
		record(&key, now - start.ns);
		if (slow_ns)
			slow_conn(&c, now - start.ns, now, &start.who, key.cgroup);
	} else if (newstate == TCP_CLOSE) {
		count_failure(&key);
	}
	return 0;
}

static __always_inline int on_passive_established(struct sock *sk, bool btf)
{
	struct tcp_conn c;
	struct tcp_key key;
	__u64 cgroup;
	__u32 srtt;

	if (!read_conn(sk, &c, btf) || !ports_pass(c.lport, c.rport))
		return 0;
	/* In softirq: the socket's own cgroup, its listener's. */
	cgroup = sock_cgroup(sk, btf);
	if (!cgroup_wanted(cgroup))
		return 0;
	srtt = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us);
	if (!srtt) {
		counter_inc(&tcp_counters, TCP_UNTIMED);
		return 0;
	}
	make_key(&key, &c, c.lport, TCP_DIR_PASSIVE, cgroup);
	record(&key, (__u64)(srtt >> 3) * 1000);
	return 0;
}

/* The states first: most transitions concern neither end of a handshake
 * and cost no read of the socket. in_sk, btf: see keep_start, read_conn. */
static __always_inline int on_state(struct sock *sk, int oldstate, int newstate, bool in_sk, bool btf)
{
	bool active_start = newstate == TCP_SYN_SENT, active_end = oldstate == TCP_SYN_SENT;
	bool passive_end = oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED;

	if (!active_start && !active_end && !passive_end)
		return 0;
	if ((btf ? sk_protocol_of_btf(sk) : sk_protocol_of(sk)) != IPPROTO_TCP)
		return 0; /* e.g. MPTCP's own socket */
	if (active_start) {
		/* The local port is not bound yet: filter at the end. */
		keep_start(sk, in_sk);
		return 0;
	}
	if (active_end)
		return on_active_end(sk, newstate, in_sk, btf);
	return on_passive_established(sk, btf);
}

SEC("tp_btf/inet_sock_set_state")
int tcp_connect_btf(__u64 *ctx)
{
	return on_state((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2], true, true);
}

/* tp_btf without socket storage for tracing (Linux 5.5-5.10). */
SEC("tp_btf/inet_sock_set_state")
int tcp_connect_lru(__u64 *ctx)
{
	return on_state((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2], false, true);
}

SEC("raw_tp/inet_sock_set_state")
int tcp_connect_raw(__u64 *ctx)
{
	return on_state((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2], false, false);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_connect_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return on_state((struct sock *)BPF_CORE_READ(ctx, skaddr),
			BPF_CORE_READ(ctx, oldstate), BPF_CORE_READ(ctx, newstate), false, false);
}
