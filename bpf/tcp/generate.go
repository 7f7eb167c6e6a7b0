// Package tcp holds the TCP probes' eBPF programs and their bpf2go output:
// tcp_connect, tcp_retransmits, tcp_rtt, and the iterator that arms
// connections older than tcp_rtt's attach. The loaders, metrics and tests
// live in plugins/inputs/ebpf_latency/tcp.
package tcp

//go:generate go tool bpf2go -tags linux -target bpfel -type tcp_key -type tcp_prefix -type hist Connect tcp_connect.bpf.c -- -I../headers -Wall -Werror -O2 -g
//go:generate go tool bpf2go -tags linux -target bpfel Retransmits tcp_retransmits.bpf.c -- -I../headers -Wall -Werror -O2 -g
//go:generate go tool bpf2go -tags linux -target bpfel -type tcp_slot Rtt tcp_rtt.bpf.c -- -I../headers -Wall -Werror -O2 -g
//go:generate go tool bpf2go -tags linux -target bpfel Arm tcp_arm.bpf.c -- -I../headers -Wall -Werror -O2 -g
