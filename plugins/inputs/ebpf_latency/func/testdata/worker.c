// Workload for the func probe's tests. It says "ready" on stdout and waits
// for a line on stdin, so the test attaches the probe first, then runs one
// mode and exits:
//   worker work <count> <ms> [<count> <ms> ...]  do_work(ms), count times each
//   worker fsync <count> <file>                   fsync(2) through libc
//   worker nest <calls> <depth> <ms>              nest(depth, ms), calls times
#define _GNU_SOURCE
#include <errno.h>
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
	} else {
		return 2;
	}
	return 0;
}
