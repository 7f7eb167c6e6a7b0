// Workload for the func probe's tests. It says "ready" on stdout and waits
// for a line on stdin, so the test attaches the probe first, then runs one
// mode and exits:
//   worker work <count> <ms> [<count> <ms> ...]  do_work(ms), count times each
//   worker fsync <count> <file>                   fsync(2) through libc
//   worker nest <calls> <depth> <ms>              nest(depth, ms), calls times
//   worker threads <n> <ms>                       n threads in do_work(ms) at once
//   worker chain <calls> <ms>                     chain1(ms) .. chain5, calls times
//   worker hold <n>                               n threads call do_work(0) once each and
//                                                 stay; "called" once all have, exit on a line
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

__attribute__((noinline)) void do_work(int ms)
{
	sleep_ms(ms);
}

// Recursion: only the outermost call may be timed.
__attribute__((noinline)) void nest(int depth, int ms)
{
	if (depth > 1)
		nest(depth - 1, ms);
	else
		sleep_ms(ms);
}

// Five distinct functions, each inside the one before.
__attribute__((noinline)) void chain5(int ms) { sleep_ms(ms); }
__attribute__((noinline)) void chain4(int ms) { chain5(ms); }
__attribute__((noinline)) void chain3(int ms) { chain4(ms); }
__attribute__((noinline)) void chain2(int ms) { chain3(ms); }
__attribute__((noinline)) void chain1(int ms) { chain2(ms); }

static pthread_barrier_t together;

// After the barrier every thread enters do_work before any leaves it: the
// sleep is far longer than the time they take to get there.
static void *in_work(void *ms)
{
	pthread_barrier_wait(&together);
	do_work(*(int *)ms);
	return NULL;
}

static int threads(int n, int ms)
{
	pthread_t tids[n];

	if (pthread_barrier_init(&together, NULL, n))
		return 6;
	for (int i = 0; i < n; i++)
		if (pthread_create(&tids[i], NULL, in_work, &ms))
			return 6;
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	return 0;
}

static pthread_barrier_t called;

// Calls once, then stays: the thread's task storage lives as long as it.
static void *call_and_stay(void *unused)
{
	(void)unused;
	do_work(0);
	pthread_barrier_wait(&called);
	for (;;)
		pause();
	return NULL;
}

static int hold(int n)
{
	pthread_attr_t small;
	pthread_t tid;
	char line[16];

	if (pthread_barrier_init(&called, NULL, n + 1) || pthread_attr_init(&small) ||
	    pthread_attr_setstacksize(&small, 64 << 10))
		return 6;
	for (int i = 0; i < n; i++)
		if (pthread_create(&tid, &small, call_and_stay, NULL))
			return 6;
	pthread_barrier_wait(&called);
	puts("called");
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) ? 0 : 3; // exit ends every thread
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 10 };
	char line[16];

	if (argc < 2)
		return 2;
	// Wake on time despite busy CPUs, so each sample stays in its delay's
	// bucket; without the privilege, carry on unprioritised.
	sched_setscheduler(0, SCHED_FIFO, &sp);
	prctl(PR_SET_TIMERSLACK, 1UL);
	puts("ready");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;

	if (!strcmp(argv[1], "work")) {
		for (int a = 2; a + 1 < argc; a += 2)
			for (int i = 0; i < atoi(argv[a]); i++)
				do_work(atoi(argv[a + 1]));
	} else if (!strcmp(argv[1], "fsync") && argc == 4) {
		int fd = open(argv[3], O_WRONLY | O_CREAT, 0600);

		if (fd < 0)
			return 4;
		for (int i = 0; i < atoi(argv[2]); i++)
			if (fsync(fd))
				return 5;
		close(fd);
	} else if (!strcmp(argv[1], "nest") && argc == 5) {
		for (int i = 0; i < atoi(argv[2]); i++)
			nest(atoi(argv[3]), atoi(argv[4]));
	} else if (!strcmp(argv[1], "threads") && argc == 4) {
		return threads(atoi(argv[2]), atoi(argv[3]));
	} else if (!strcmp(argv[1], "hold") && argc == 3) {
		return hold(atoi(argv[2]));
	} else if (!strcmp(argv[1], "chain") && argc == 4) {
		for (int i = 0; i < atoi(argv[2]); i++)
			chain1(atoi(argv[3]));
	} else {
		return 2;
	}
	return 0;
}
