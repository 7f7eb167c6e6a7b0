// Package bench holds the overhead benchmark's floor programs (empty bodies
// on the probes' hooks) and their bpf2go output. The harness lives in
// plugins/inputs/ebpf_latency/bench.
package bench

//go:generate go tool bpf2go -tags linux -target bpfel Bench bench.bpf.c -- -I../headers -Wall -Werror -O2 -g
