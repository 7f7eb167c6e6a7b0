package bench

import (
	"fmt"
	"strings"
	"testing"

	benchbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/bench"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
)

// floorHook is one empty program and the event it goes on.
type floorHook struct {
	program     string
	group, name string
	perEvent    bool // fires once per workload event: the divisor
}

// diskFloors are the empty programs on the disk probe's hooks, by flavour.
var diskFloors = map[hooks.Kind][]floorHook{
	hooks.TPBTF: {
		{benchbpf.BenchProgFloorInsertBtf, "block", "block_rq_insert", false},
		{benchbpf.BenchProgFloorIssueBtf, "block", "block_rq_issue", false},
		{benchbpf.BenchProgFloorCompleteBtf, "block", "block_rq_complete", true},
	},
	hooks.RawTP: {
		{benchbpf.BenchProgFloorInsertRaw, "block", "block_rq_insert", false},
		{benchbpf.BenchProgFloorIssueRaw, "block", "block_rq_issue", false},
		{benchbpf.BenchProgFloorCompleteRaw, "block", "block_rq_complete", true},
	},
	hooks.Tracepoint: {
		{benchbpf.BenchProgFloorInsertTp, "block", "block_rq_insert", false},
		{benchbpf.BenchProgFloorIssueTp, "block", "block_rq_issue", false},
		{benchbpf.BenchProgFloorCompleteTp, "block", "block_rq_complete", true},
	},
}

// sysFloors are the empty programs on the syscall probe's hooks.
var sysFloors = map[hooks.Kind][]floorHook{
	hooks.TPBTF: {
		{benchbpf.BenchProgFloorSysEnterBtf, "raw_syscalls", "sys_enter", false},
		{benchbpf.BenchProgFloorSysExitBtf, "raw_syscalls", "sys_exit", true},
	},
	hooks.RawTP: {
		{benchbpf.BenchProgFloorSysEnterRaw, "raw_syscalls", "sys_enter", false},
		{benchbpf.BenchProgFloorSysExitRaw, "raw_syscalls", "sys_exit", true},
	},
}

// tcpFloors are the empty programs on the tcp probes' tracepoints; each is
// the per-event program of its own floor.
var tcpFloors = map[hooks.Kind][]floorHook{
	hooks.TPBTF: {
		{benchbpf.BenchProgFloorSetStateBtf, "sock", "inet_sock_set_state", true},
		{benchbpf.BenchProgFloorTcpProbeBtf, "tcp", "tcp_probe", true},
	},
}

// runqFloors are the empty programs on the runq probe's hooks; sched_switch
// is the divisor.
var runqFloors = map[hooks.Kind][]floorHook{
	hooks.TPBTF: {
		{benchbpf.BenchProgFloorWakeupBtf, "sched", "sched_wakeup", false},
		{benchbpf.BenchProgFloorWakeupNewBtf, "sched", "sched_wakeup_new", false},
		{benchbpf.BenchProgFloorSwitchBtf, "sched", "sched_switch", true},
		{benchbpf.BenchProgFloorMigrateBtf, "sched", "sched_migrate_task", false},
	},
}

// startFloor attaches the empty programs of kind on the named events through
// the same attacher the probes use.
func startFloor(t testing.TB, table map[hooks.Kind][]floorHook, kind hooks.Kind, events ...string) (*Running, error) {
	spec, err := benchbpf.LoadBench()
	if err != nil {
		return nil, fmt.Errorf("reading the embedded bench object: %w", err)
	}
	fl := hooks.Flavour{Kind: kind}
	perEvent := map[string]bool{}
	for _, h := range table[kind] {
		for _, e := range events {
			if h.name == e {
				fl.Hooks = append(fl.Hooks, hooks.Hook{Program: h.program, Group: h.group, Event: h.name})
				perEvent[h.program] = h.perEvent
			}
		}
	}
	if len(fl.Hooks) != len(events) {
		return nil, fmt.Errorf("no %s floor for all of %s", kind, strings.Join(events, ", "))
	}
	att, err := hooks.Attach(spec, []hooks.Flavour{fl}, hooks.Options{})
	if err != nil {
		return nil, err
	}
	run := newRunning(t, att.Close)
	for name, p := range att.Programs() {
		run.Programs = append(run.Programs, p)
		if perEvent[name] {
			run.Events = append(run.Events, p)
		}
	}
	return run, nil
}
