//go:build ignore

// The constraint above keeps the go tool from treating this file as cgo
// source of package testenv; it is only embedded and compiled by gcc at test
// time (see fuse.go).

// fusedelay: a FUSE filesystem exposing one in-memory file, /disk.img, whose
// every read and write is delayed by a fixed amount before being served.
// Used by testenv.NewDelayedFile to put a loop device over a "slow disk".
//
// Usage: fusedelay SIZE_BYTES DELAY_US [libfuse options...] MOUNTPOINT
// The two leading positional arguments are consumed here; the rest goes to
// fuse_main unchanged (testenv passes -f, i.e. foreground).
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <errno.h>
#include <fuse.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *file_path = "/disk.img";
static char *data;
static off_t data_size;
static long long delay_us;
// Guards only the memcpy, never the sleep, so concurrent requests (libfuse
// runs multi-threaded) are delayed in parallel, like a device with a queue.
static pthread_mutex_t data_lock = PTHREAD_MUTEX_INITIALIZER;

static void delay(void)
{
	struct timespec until;

	if (delay_us <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += delay_us / 1000000;
	until.tv_nsec += (delay_us % 1000000) * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	// Absolute deadline: a signal interruption cannot shorten the delay.
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

static void *fd_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	// Nothing may be cached by the kernel: every I/O must reach us.
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	return NULL;
}

static int fd_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, file_path) == 0) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = data_size;
		st->st_blocks = (data_size + 511) / 512;
		return 0;
	}
	return -ENOENT;
}

static int fd_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	filler(buf, file_path + 1, NULL, 0, 0);
	return 0;
}

static int fd_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, file_path) != 0)
		return -ENOENT;
	// Bypass the page cache so reads are never served from memory.
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static int fd_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, file_path) != 0)
		return -ENOENT;
	delay();
	if (off >= data_size)
		return 0;
	if ((off_t)size > data_size - off)
		size = data_size - off;
	pthread_mutex_lock(&data_lock);
	memcpy(buf, data + off, size);
	pthread_mutex_unlock(&data_lock);
	return (int)size;
}

static int fd_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, file_path) != 0)
		return -ENOENT;
	delay();
	// The file has a fixed size, like a disk.
	if (off >= data_size)
		return -ENOSPC;
	if ((off_t)size > data_size - off)
		size = data_size - off;
	pthread_mutex_lock(&data_lock);
	memcpy(data + off, buf, size);
	pthread_mutex_unlock(&data_lock);
	return (int)size;
}

static int fd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)size;
	(void)fi;
	// Fixed-size file: accept and ignore (O_TRUNC opens would otherwise fail).
	return strcmp(path, file_path) == 0 ? 0 : -ENOENT;
}

static int fd_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return 0;
}

static int fd_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;
}

static const struct fuse_operations ops = {
	.init = fd_init,
	.getattr = fd_getattr,
	.readdir = fd_readdir,
	.open = fd_open,
	.read = fd_read,
	.write = fd_write,
	.truncate = fd_truncate,
	.fsync = fd_fsync,
	.flush = fd_flush,
};

int main(int argc, char *argv[])
{
	char *end;

	if (argc < 4) {
		fprintf(stderr, "usage: %s SIZE_BYTES DELAY_US [fuse options] MOUNTPOINT\n", argv[0]);
		return 2;
	}
	data_size = strtoll(argv[1], &end, 10);
	if (*end != '\0' || data_size <= 0) {
		fprintf(stderr, "fusedelay: bad size %s\n", argv[1]);
		return 2;
	}
	delay_us = strtoll(argv[2], &end, 10);
	if (*end != '\0' || delay_us < 0) {
		fprintf(stderr, "fusedelay: bad delay %s\n", argv[2]);
		return 2;
	}
	data = calloc(1, data_size);
	if (data == NULL) {
		fprintf(stderr, "fusedelay: cannot allocate %lld bytes\n", (long long)data_size);
		return 1;
	}
	// Answer on time even beside a CPU hog, so a delay stays in its
	// bucket; best effort (needs root, which the tests have).
	struct sched_param prio = { .sched_priority = 10 };
	if (sched_setscheduler(0, SCHED_FIFO, &prio) != 0)
		perror("fusedelay: SCHED_FIFO");
	// Drop our two arguments, keep argv[0] for libfuse.
	argv[2] = argv[0];
	return fuse_main(argc - 2, argv + 2, &ops, NULL);
}
