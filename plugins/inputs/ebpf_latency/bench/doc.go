// Package bench measures what the probes cost, side by side with the physical
// floor (empty programs on the same hooks) and with the tool a user would
// reach for instead (bpftrace).
//
// The figure it trusts is the kernel's own accounting (BPF stats: run time
// and run count per program) over a fixed number of events, because
// wall-clock differences of a few hundred nanoseconds per event drown in a
// VM's noise; wall clock is reported beside it with its spread. TestOverhead
// runs the table (EBPF_LATENCY_BENCH=full) or smoke-runs every variant;
// BenchmarkGather measures the user-space side. See docs/benchmarks.md.
package bench
