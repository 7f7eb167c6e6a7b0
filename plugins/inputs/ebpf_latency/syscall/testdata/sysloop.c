//go:build ignore

// The constraint above keeps the go tool from treating this file as cgo
// source; the tests compile it with gcc.

// sysloop: makes a known number of syscalls on command, so the syscall
// probe's tests can count them. Usage: sysloop COMM FILE
// It names itself COMM, then reads commands from stdin, one per line, and
// answers each with "ok" once done:
//   name COMM        prctl(PR_SET_NAME)
//   fdatasync N      N fdatasync(2) on FILE
//   sleep N MS       N clock_nanosleep(2) of MS milliseconds each
//   getpid N         N raw getpid(2)
//   pread N          N pread(2) of 4 KiB at offset 0 of FILE
//   int80 N NR       N 32-bit syscalls NR through int $0x80 (x86-64 only)
//   threads N        N new threads each make one fdatasync(2) on FILE and stay
//                    until exit ("ok" once all have)
// It exits at end of input.
#define _GNU_SOURCE

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int fd;
static pthread_barrier_t synced;

static void *sync_and_stay(void *unused)
{
	(void)unused;
	if (fdatasync(fd) != 0)
		die("fdatasync");
	pthread_barrier_wait(&synced);
	for (;;)
		pause();
	return NULL;
}

/* Threads that live on: their task storage lives as long as they do. */
static void threads(long n)
{
	pthread_attr_t small;
	pthread_t tid;

	if (pthread_barrier_init(&synced, NULL, n + 1) || pthread_attr_init(&small) ||
	    pthread_attr_setstacksize(&small, 64 << 10))
		die("pthread setup");
	for (long i = 0; i < n; i++)
		if (pthread_create(&tid, &small, sync_and_stay, NULL))
			die("pthread_create");
	pthread_barrier_wait(&synced);
}

int main(int argc, char *argv[])
{
	char line[128], arg[64];
	long n, ms;

	if (argc != 3) {
		fprintf(stderr, "usage: %s COMM FILE\n", argv[0]);
		return 2;
	}
	if (prctl(PR_SET_NAME, argv[1]) != 0)
		die("prctl");
	fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open");
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "name %63s", arg) == 1) {
			if (prctl(PR_SET_NAME, arg) != 0)
				die("prctl");
		} else if (sscanf(line, "fdatasync %ld", &n) == 1) {
			for (long i = 0; i < n; i++)
				if (fdatasync(fd) != 0)
					die("fdatasync");
		} else if (sscanf(line, "sleep %ld %ld", &n, &ms) == 2) {
			struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

			for (long i = 0; i < n; i++)
				if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) != 0)
					die("clock_nanosleep");
		} else if (sscanf(line, "pread %ld", &n) == 1) {
			static char buf[4096];

			for (long i = 0; i < n; i++)
				if (pread(fd, buf, sizeof(buf), 0) < 0)
					die("pread");
		} else if (sscanf(line, "threads %ld", &n) == 1) {
			threads(n);
		} else if (sscanf(line, "getpid %ld", &n) == 1) {
			for (long i = 0; i < n; i++)
				syscall(SYS_getpid);
		} else if (sscanf(line, "int80 %ld %ld", &n, &ms) == 2) {
#if defined(__x86_64__)
			/* The ia32 table: the kernel marks the task TS_COMPAT. */
			for (long i = 0; i < n; i++) {
				long ret;

				__asm__ volatile("int $0x80" : "=a"(ret) : "a"(ms), "b"(-1L), "c"(0L) : "memory");
			}
#else
			fprintf(stderr, "sysloop: int80 needs x86-64\n");
			return 2;
#endif
		} else {
			fprintf(stderr, "sysloop: bad command %s", line);
			return 2;
		}
		printf("ok\n");
	}
	return 0;
}
