// Package runq holds the runq probe's eBPF program and its bpf2go output.
// The loader, metrics and tests live in plugins/inputs/ebpf_latency/runq.
package runq

//go:generate go tool bpf2go -tags linux -target bpfel -type runq_hist_key -type hist Runq runq.bpf.c -- -I../headers -Wall -Werror -O2 -g
