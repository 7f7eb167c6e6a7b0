// Test workloads for the runq probe, each pinned to one CPU.
//
//   runqhelper hog CPU                says "ready" once pinned, busy-loops until killed
//   runqhelper sleep CPU N USEC NAME  sleeps N times for USEC us as NAME
//   runqhelper block CPU N MS NAME    as NAME, is kept off the CPU N times
//                                     for MS ms by a higher SCHED_FIFO child
//   runqhelper move CPU OTHER N MS NAME
//                                     as block, but halfway through each
//                                     spin the child moves the waiting
//                                     parent to CPU OTHER, where it runs
//                                     at once; the parent moves itself
//                                     back named ebpfl-done
//   runqhelper crowd CPU K MS NAME    K children named NAME wait together:
//                                     woken at once while a SCHED_FIFO
//                                     parent keeps the CPU for MS ms more
//   runqhelper serve CPU USEC         says "ready", then for each line N on
//                                     stdin sleeps N times for USEC us and
//                                     says "done"; named from exec on (run it
//                                     through a symlink)
//   runqhelper reap CPU K FDS         says "ready" once it has K children
//                                     holding FDS open files each, their
//                                     /proc/PID/fd entries looked up, and
//                                     a SCHED_FIFO ticker waking every
//                                     200 us; on a line on stdin ends and
//                                     reaps each child, then says "done";
//                                     named from exec on, as serve
//
// sleep and block rename themselves to NAME only around their loop, and
// print how often they were switched out meanwhile: the probe must count
// at least one sample per loop round and at most that many.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "runqhelper: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pin_task(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(pid, sizeof(set), &set))
		die("sched_setaffinity");
}

static void pin(int cpu)
{
	pin_task(0, cpu);
}

static long switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		die("getrusage");
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

static void rename_to(const char *name)
{
	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		die("prctl(PR_SET_NAME)");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleeper(int n, long usec, const char *name)
{
	struct timespec ts = { .tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000 };
	long before = switches(), after;

	rename_to(name);
	for (int i = 0; i < n; i++)
		if (nanosleep(&ts, NULL))
			die("nanosleep");
	rename_to("ebpfl-done");
	after = switches();
	printf("%ld\n", after - before);
}

// Forks the child that, for each of n requests on req, acks on ack and
// spins ms; with move_to >= 0 it moves the parent to that CPU halfway
// through each spin. Both become SCHED_FIFO on the same CPU, the child one
// priority higher: the request's wakeup preempts the parent, which then
// waits for the CPU as long as the child spins, and nothing else.
static pid_t spinner(int req[2], int ack[2], int n, double ms, int move_to)
{
	struct sched_param low = { .sched_priority = 1 }, high = { .sched_priority = 2 };
	pid_t parent = getpid(), child;
	char b = 0;

	if (pipe(req) || pipe(ack))
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		for (int i = 0; i < n; i++) {
			if (read(req[0], &b, 1) != 1 || write(ack[1], &b, 1) != 1)
				_exit(1);
			if (move_to < 0) {
				for (double end = now_ms() + ms; now_ms() < end;)
					;
				continue;
			}
			for (double end = now_ms() + ms / 2; now_ms() < end;)
				;
			pin_task(parent, move_to);
			for (double end = now_ms() + ms / 2; now_ms() < end;)
				;
		}
		_exit(0);
	}
	// Once FIFO, the child runs at once and blocks in its first read.
	if (sched_setscheduler(child, SCHED_FIFO, &high) || sched_setscheduler(0, SCHED_FIFO, &low))
		die("sched_setscheduler(SCHED_FIFO)");
	return child;
}

static void reap(pid_t child)
{
	int status;

	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		die("child");
}

// Kept off the CPU n times for ms by the spinner child.
static void blocked(int n, double ms, const char *name)
{
	int req[2], ack[2];
	pid_t child = spinner(req, ack, n, ms, -1);
	long before, after;
	char b = 0;

	before = switches();
	rename_to(name);
	for (int i = 0; i < n; i++)
		if (write(req[1], &b, 1) != 1 || read(ack[0], &b, 1) != 1)
			die("pipe round trip");
	rename_to("ebpfl-done");
	after = switches();
	reap(child);
	printf("%ld\n", after - before);
}

// As blocked, but the child moves the parent, queued behind its spin, to
// CPU other halfway through: the parent's wait is split across two run
// queues, once per round while named name. It moves itself back unnamed.
static void moved(int cpu, int other, int n, double ms, const char *name)
{
	int req[2], ack[2];
	pid_t child = spinner(req, ack, n, ms, other);
	long before, switched = 0;
	char b = 0;

	for (int i = 0; i < n; i++) {
		before = switches();
		rename_to(name);
		if (write(req[1], &b, 1) != 1 || read(ack[0], &b, 1) != 1)
			die("pipe round trip");
		rename_to("ebpfl-done");
		switched += switches() - before;
		pin(cpu);
	}
	reap(child);
	printf("%ld\n", switched);
}

// K children, each blocked on a pipe of its own, are woken back to back by
// the SCHED_FIFO parent, which then spins ms before it blocks: all K wait in
// the run queue at once, each at least ms. Each child counts its own
// switch-outs while named (the last one before it reads its wakeup is the
// one it was woken from); prints their sums "LOW HIGH". Its switch-ins while
// named are its switch-outs between the two renames (it runs at both), but
// a count cannot be read at the instant of a rename: so each child counts
// inside the renames (LOW, at least) and outside them (HIGH, at most).
static void crowd(int k, double ms, const char *name)
{
	struct sched_param fifo = { .sched_priority = 1 };
	int ready[2], result[2], wake[k][2], status;
	long low = 0, high = 0, n[2];
	char b = 0;

	if (pipe(ready) || pipe(result))
		die("pipe");
	for (int i = 0; i < k; i++) {
		if (pipe(wake[i]))
			die("pipe");
		pid_t child = fork();
		if (child < 0)
			die("fork");
		if (child == 0) {
			long outer_start, inner_start, inner_end, outer_end;

			outer_start = switches();
			rename_to(name);
			inner_start = switches();
			if (write(ready[1], &b, 1) != 1 || read(wake[i][0], &b, 1) != 1)
				_exit(1);
			inner_end = switches();
			rename_to("ebpfl-done");
			outer_end = switches();
			n[0] = inner_end - inner_start;
			n[1] = outer_end - outer_start;
			if (write(result[1], n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	for (int i = 0; i < k; i++)
		if (read(ready[0], &b, 1) != 1)
			die("child ready");
	if (sched_setscheduler(0, SCHED_FIFO, &fifo))
		die("sched_setscheduler(SCHED_FIFO)");
	for (int i = 0; i < k; i++)
		if (write(wake[i][1], &b, 1) != 1)
			die("wake child");
	for (double end = now_ms() + ms; now_ms() < end;)
		;
	for (int i = 0; i < k; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			die("child");
		if (read(result[0], n, sizeof(n)) != sizeof(n))
			die("child result");
		low += n[0];
		high += n[1];
	}
	printf("%ld %ld\n", low, high);
}

// Between requests it blocks in read, so the kernel's counts of its
// switch-ins hold still while the test reads them.
static void serve(long usec)
{
	struct timespec ts = { .tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000 };
	char line[32];

	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		for (int i = atoi(line); i > 0; i--)
			if (nanosleep(&ts, NULL))
				die("nanosleep");
		printf("done\n");
		fflush(stdout);
	}
}

// Dies with the parent, renamed so that none of its switch-ins is the
// parent's comm's after its first.
static void become_child_of(pid_t parent, const char *name)
{
	rename_to(name);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
}

// A SCHED_FIFO task on the caller's CPU woken every 200 us: each wakeup
// preempts what runs there, a task in the kernel at its next
// cond_resched() (with preempt=none, the only such point).
static pid_t ticker(void)
{
	struct sched_param fifo = { .sched_priority = 1 };
	pid_t parent = getpid(), child = fork();
	struct timespec next;

	if (child < 0)
		die("fork");
	if (child > 0)
		return child;
	become_child_of(parent, "ebpfl-ticker");
	if (sched_setscheduler(0, SCHED_FIFO, &fifo))
		_exit(1);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += 200000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}

// A child holding fds open files until its pipe closes, with a dentry for
// each of them under /proc/PID/fd: reaping it kills those dentries one by
// one, a reschedule point (cond_resched) each, all while the reaper's
// wait4 already set it TASK_INTERRUPTIBLE. siblings are the ends that
// release the children made before.
static pid_t reapable(int fds, const int *siblings, int n, int *release)
{
	pid_t parent = getpid(), child;
	int p[2], ready[2];
	char b = 0, path[64];
	struct stat st;

	if (pipe(p) || pipe(ready))
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		become_child_of(parent, "ebpfl-reaped");
		// Each child must end when its own pipe closes, not hold others'.
		close(p[1]);
		for (int i = 0; i < n; i++)
			close(siblings[i]);
		for (int i = 0; i < fds; i++)
			if (dup(p[0]) < 0)
				_exit(1);
		if (write(ready[1], &b, 1) != 1)
			_exit(1);
		while (read(p[0], &b, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	if (read(ready[0], &b, 1) != 1)
		die("reapable child");
	close(ready[0]);
	for (int fd = 0; fd < fds; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", child, fd);
		lstat(path, &st); // for the dentry it leaves
	}
	*release = p[1];
	return child;
}

static void reaper(int k, int fds)
{
	pid_t tick, children[k];
	int release[k], status;
	struct rlimit files;
	char line[32];

	if (getrlimit(RLIMIT_NOFILE, &files))
		die("getrlimit(RLIMIT_NOFILE)");
	if (files.rlim_cur < (rlim_t)fds + 64) {
		files.rlim_cur = fds + 64;
		if (setrlimit(RLIMIT_NOFILE, &files))
			die("setrlimit(RLIMIT_NOFILE)");
	}
	tick = ticker();
	for (int i = 0; i < k; i++)
		children[i] = reapable(fds, release, i, &release[i]);
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		die("request");
	for (int i = 0; i < k; i++) {
		close(release[i]);
		if (waitpid(children[i], &status, 0) != children[i] || !WIFEXITED(status) || WEXITSTATUS(status))
			die("reapable child");
	}
	printf("done\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	kill(tick, SIGKILL);
	waitpid(tick, &status, 0);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hog")) {
		pin(atoi(argv[2]));
		printf("ready\n");
		fflush(stdout);
		for (volatile unsigned long i = 0;; i++)
			;
	}
	if (argc == 6 && !strcmp(argv[1], "sleep")) {
		pin(atoi(argv[2]));
		sleeper(atoi(argv[3]), atol(argv[4]), argv[5]);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "block")) {
		pin(atoi(argv[2]));
		blocked(atoi(argv[3]), atof(argv[4]), argv[5]);
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "move")) {
		pin(atoi(argv[2]));
		moved(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]), argv[6]);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "crowd")) {
		pin(atoi(argv[2]));
		crowd(atoi(argv[3]), atof(argv[4]), argv[5]);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "serve")) {
		pin(atoi(argv[2]));
		serve(atol(argv[3]));
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "reap")) {
		pin(atoi(argv[2]));
		reaper(atoi(argv[3]), atoi(argv[4]));
		return 0;
	}
	fprintf(stderr, "usage: runqhelper hog CPU | sleep CPU N USEC NAME | block CPU N MS NAME | move CPU OTHER N MS NAME | crowd CPU K MS NAME | serve CPU USEC | reap CPU K FDS\n");
	return 2;
}
