// Workload of the func path. It says "ready", then for each line N on
// stdin calls bench_fn N times and answers with the elapsed nanoseconds.
// bench_fn is not inlined and does almost nothing, so a probe's share of
// each call is as large as it gets.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

__attribute__((noinline)) void bench_fn(unsigned long i)
{
	sink += i;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void)
{
	char line[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	puts("ready");
	while (fgets(line, sizeof(line), stdin)) {
		long n = atol(line);
		long long start = now_ns();

		for (long i = 0; i < n; i++)
			bench_fn(i);
		printf("%lld\n", now_ns() - start);
	}
	return 0;
}
