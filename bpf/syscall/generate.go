// Package syscall holds the syscall probe's eBPF program and its bpf2go
// output. The loader, metrics and tests live in plugins/inputs/ebpf_latency/syscall.
package syscall

//go:generate go tool bpf2go -tags linux -target bpfel -type syscall_hist_key -type hist Syscall syscall.bpf.c -- -I../headers -Wall -Werror -O2 -g
