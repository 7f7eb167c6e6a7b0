package runq

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
)

// errNoStamps is why the scheduler's enqueue stamps cannot time the waits.
type errNoStamps struct{ why string }

func (e errNoStamps) Error() string {
	return "the scheduler's enqueue stamps are unavailable: " + e.why
}

// stampFields are the kernel fields the stamp flavour reads, with the
// kernel option that brings each.
var stampFields = []struct{ typ, member, option string }{
	{"task_struct", "sched_info", "CONFIG_SCHED_INFO"},
	{"sched_info", "last_queued", "CONFIG_SCHED_INFO"},
	{"task_struct", "se", "CONFIG_FAIR_GROUP_SCHED"},
	{"sched_entity", "cfs_rq", "CONFIG_FAIR_GROUP_SCHED"},
	{"cfs_rq", "rq", "CONFIG_FAIR_GROUP_SCHED"},
	{"rq", "clock", "the scheduler's run-queue clock"},
}

// checkStamps says why the stamp flavour cannot run here, or nil: a field
// missing from kernelTypes (nil: the running kernel's BTF), or stamps not
// kept at run time, as schedstat (a thread's /proc schedstat) shows.
func checkStamps(kernelTypes *btf.Spec, schedstat string) error {
	if kernelTypes == nil {
		var err error
		if kernelTypes, err = btf.LoadKernelSpec(); err != nil {
			return errNoStamps{fmt.Sprintf("reading the kernel's BTF: %v", err)}
		}
	}
	for _, f := range stampFields {
		if !kernel.SpecHasMember(kernelTypes, f.typ, f.member) {
			return errNoStamps{fmt.Sprintf("this kernel has no %s.%s (%s)", f.typ, f.member, f.option)}
		}
	}
	if err := stampsKept(schedstat); err != nil {
		return errNoStamps{err.Error()}
	}
	return nil
}

// stampsKept checks the scheduler stamps enqueues at run time (before
// Linux 5.14 it did only with delay accounting on): this thread sleeps a
// millisecond, and its schedstat arrival count (pcount, bumped only for an
// arrival with a stamp) must grow.
func stampsKept(schedstat string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := arrivals(schedstat)
	if err != nil {
		return err
	}
	for range 3 {
		ts := unix.NsecToTimespec(time.Millisecond.Nanoseconds())
		if err := unix.Nanosleep(&ts, nil); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("sleeping to check the stamps: %w", err)
		}
		after, err := arrivals(schedstat)
		if err != nil {
			return err
		}
		if after > before {
			return nil
		}
	}
	return fmt.Errorf("%s counts no arrival across a sleep: the scheduler keeps no stamps at run time (before Linux 5.14: delay accounting off)", schedstat)
}

// arrivals is the third field of a schedstat file: pcount.
func arrivals(schedstat string) (uint64, error) {
	b, err := os.ReadFile(schedstat)
	if err != nil {
		return 0, fmt.Errorf("no per-task schedstat (CONFIG_SCHED_INFO): %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return 0, fmt.Errorf("%s: %q has no arrival count", schedstat, strings.TrimSpace(string(b)))
	}
	n, err := strconv.ParseUint(fields[2], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: arrival count: %w", schedstat, err)
	}
	return n, nil
}
