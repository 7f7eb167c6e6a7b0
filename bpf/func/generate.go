// Package funcbpf holds the func probe's eBPF program and its bpf2go output.
// The loader, metrics and tests live in plugins/inputs/ebpf_latency/func.
package funcbpf

//go:generate go tool bpf2go -tags linux -target bpfel -type func_hist_key -type hist Func func.bpf.c -- -I../headers -Wall -Werror -O2 -g
