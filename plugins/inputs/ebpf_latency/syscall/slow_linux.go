package syscall

import (
	"github.com/influxdata/telegraf"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/slowevent"
)

// emitSlowEvents writes the slow syscalls since the last gather: tag
// syscall (and cgroup, as its series), fields who made it and its first argument: `fd` for the calls
// whose first argument is a file descriptor, else `arg0`.
func (p *syscallProbe) emitSlowEvents(acc telegraf.Accumulator) {
	for _, e := range p.events.Take() {
		name := p.name(e.What)
		fields := map[string]any{"arg0": int64(e.Detail)}
		if fdFirst[name] {
			// An int in C: AT_FDCWD and -1 stay negative.
			fields = map[string]any{"fd": int64(int32(e.Detail))}
		}
		tags := map[string]string{TagSyscall: name}
		if !p.cgroups.TagEvent(tags, e.Cgroup) {
			continue
		}
		slowevent.Emit(acc, Name, &e, tags, fields)
	}
}

// fdFirst are the syscalls (of those worth timing) whose first argument is a
// file descriptor.
var fdFirst = map[string]bool{
	"read": true, "write": true, "pread64": true, "pwrite64": true, "readv": true, "writev": true,
	"preadv": true, "pwritev": true, "preadv2": true, "pwritev2": true, "fsync": true, "fdatasync": true,
	"sync_file_range": true, "fallocate": true, "ftruncate": true, "flock": true, "fcntl": true,
	"ioctl": true, "close": true, "sendfile": true, "splice": true, "tee": true, "copy_file_range": true,
	"sendmsg": true, "recvmsg": true, "sendmmsg": true, "recvmmsg": true, "sendto": true, "recvfrom": true,
	"connect": true, "accept": true, "accept4": true, "shutdown": true, "epoll_wait": true,
	"epoll_pwait": true, "epoll_pwait2": true, "io_uring_enter": true, "syncfs": true, "getdents64": true,
	"fstat": true, "fstatfs": true, "lseek": true, "openat": true, "openat2": true, "mkdirat": true,
	"unlinkat": true, "renameat": true, "renameat2": true, "newfstatat": true, "statx": true,
}
