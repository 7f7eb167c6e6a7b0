/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The `ports` filter: a bitmap of watched ports, frozen before load. */
#ifndef TCP_PORTS_BPF_H
#define TCP_PORTS_BPF_H

const volatile bool filter_ports = false;
const volatile __u64 watched_ports[1024] = {}; /* bit p set: port p watched */

static __always_inline bool port_watched(__u16 port)
{
	return watched_ports[port >> 6] & (1ULL << (port & 63));
}

/* A connection passes when either end's port is watched. */
static __always_inline bool ports_pass(__u16 lport, __u16 rport)
{
	return !filter_ports || port_watched(lport) || port_watched(rport);
}

#endif /* TCP_PORTS_BPF_H */
