// Runs the kernel's comm glob automaton (bpf/headers/comm_glob.bpf.h, the
// very code the syscall and runq probes inline) on the host, for
// match_linux_test.go.
//
// stdin: "START STAR ACCEPT", then the 256 chars masks, then one comm per
// line in hex (any bytes; an empty line is the empty comm). stdout: 1 or 0
// per comm.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#ifndef __always_inline /* glibc has one */
#define __always_inline inline __attribute__((always_inline))
#endif
#include "comm_glob.bpf.h"

int main(void)
{
	unsigned long long start, star, accept, v;
	__u64 chars[256];
	char line[128];

	if (scanf("%llu %llu %llu", &start, &star, &accept) != 3)
		return 2;
	for (int c = 0; c < 256; c++) {
		if (scanf("%llu", &v) != 1)
			return 2;
		chars[c] = v;
	}
	fgets(line, sizeof(line), stdin); /* rest of the masks' line */
	while (fgets(line, sizeof(line), stdin)) {
		char comm[COMM_GLOB_LEN] = {};
		size_t n = strcspn(line, "\n") / 2;

		for (size_t i = 0; i < n && i < COMM_GLOB_LEN - 1; i++) {
			unsigned int b;

			if (sscanf(line + 2 * i, "%2x", &b) != 1)
				return 2;
			comm[i] = (char)b;
		}
		printf("%d\n", comm_glob_match(comm, start, star, accept, chars));
	}
	return 0;
}
