//go:build ignore
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Floor programs for the overhead benchmark: empty bodies on the hooks the
 * probes use. What they cost per event is the price of being attached at all
 * (trampoline or tracepoint dispatch plus the stats' own clock reads); a
 * probe's cost is reported as a ratio against the floor of its own flavour.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FLOOR(sec, name) \
	SEC(sec) int name(void *ctx) { return 0; }

/* Disk path: block_rq_insert/issue/complete in each flavour. */
FLOOR("tp_btf/block_rq_insert", floor_insert_btf)
FLOOR("tp_btf/block_rq_issue", floor_issue_btf)
FLOOR("tp_btf/block_rq_complete", floor_complete_btf)
FLOOR("raw_tp/block_rq_insert", floor_insert_raw)
FLOOR("raw_tp/block_rq_issue", floor_issue_raw)
FLOOR("raw_tp/block_rq_complete", floor_complete_raw)
FLOOR("tracepoint/block/block_rq_insert", floor_insert_tp)
FLOOR("tracepoint/block/block_rq_issue", floor_issue_tp)
FLOOR("tracepoint/block/block_rq_complete", floor_complete_tp)

/* Syscall path: raw_syscalls sys_enter/sys_exit, the syscall probe's hooks. */
FLOOR("tp_btf/sys_enter", floor_sys_enter_btf)
FLOOR("tp_btf/sys_exit", floor_sys_exit_btf)
FLOOR("raw_tp/sys_enter", floor_sys_enter_raw)
FLOOR("raw_tp/sys_exit", floor_sys_exit_raw)
