// Package disk holds the disk probe's eBPF program and its bpf2go output.
// The loader, metrics and tests live in plugins/inputs/ebpf_latency/disk.
package disk

//go:generate go tool bpf2go -tags linux -target bpfel -type disk_hist_key -type hist_head Disk disk.bpf.c -- -I../headers -Wall -Werror -O2 -g
