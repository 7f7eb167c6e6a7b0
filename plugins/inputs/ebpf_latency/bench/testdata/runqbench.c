// Workload of the runq path: two threads named NAME, pinned to one CPU,
// pass a token through two pipes. The harness writes a count N (4 bytes)
// into thread X's inbox (fd 3; fd 4 is its write end); each thread that
// receives m > 1 passes m - 1 to the other, and the one that receives 1
// prints "done". So N messages, and each one needs its receiver switched
// in: on one CPU the sender must leave it before the receiver can run.
//
//   runqbench CPU NAME
//
// It prints "ready TID_X TID_Y" once both threads wait, and runs until
// killed.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *name;
static int cpu;
static int y_pipe[2];
static pid_t tids[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started;

struct ends {
	int in, out, who;
};

static void die(const char *what)
{
	fprintf(stderr, "runqbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *pass(void *arg)
{
	struct ends *e = arg;
	cpu_set_t set;
	uint32_t m;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		die("prctl");
	pthread_mutex_lock(&mu);
	tids[e->who] = syscall(SYS_gettid);
	started++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	for (;;) {
		if (read(e->in, &m, sizeof(m)) != sizeof(m))
			die("read");
		if (m > 1) {
			m--;
			if (write(e->out, &m, sizeof(m)) != sizeof(m))
				die("write");
		} else if (write(1, "done\n", 5) != 5) {
			die("write stdout");
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct ends x, y;
	pthread_t tx, ty;

	if (argc != 3)
		return 2;
	cpu = atoi(argv[1]);
	name = argv[2];
	if (pipe(y_pipe))
		die("pipe");
	x = (struct ends){ .in = 3, .out = y_pipe[1], .who = 0 };
	y = (struct ends){ .in = y_pipe[0], .out = 4, .who = 1 };
	if (pthread_create(&tx, NULL, pass, &x) || pthread_create(&ty, NULL, pass, &y))
		die("pthread_create");
	pthread_mutex_lock(&mu);
	while (started < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	printf("ready %d %d\n", tids[0], tids[1]);
	fflush(stdout);
	pthread_join(tx, NULL);
	return 0;
}
