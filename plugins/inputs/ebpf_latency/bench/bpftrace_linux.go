package bench

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// bpftraceBiolatency is what a user would run instead of the disk probe
// where kprobes are missing: biolatency on the block tracepoints, start
// times keyed by (dev, sector). END clears the start map so exit is quick.
const bpftraceBiolatency = `
tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
	@usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
	delete(@start[args->dev, args->sector]);
}
END { clear(@start); }
`

const (
	bpftraceLoadTimeout = 60 * time.Second
	bpftraceExitTimeout = 20 * time.Second
)

// startBpftrace runs script and finds its programs among the fds it holds,
// by kernel name (bpftrace names a tracepoint program after its event,
// truncated to 15 characters). perEvent names the per-event program.
func startBpftrace(t testing.TB, script string, names []string, perEvent string) (*Running, error) {
	var out bytes.Buffer
	cmd := exec.Command("bpftrace", "-e", script)
	cmd.Stdout, cmd.Stderr = &out, &out
	// Own process group: a ^C to go test reaches it only through Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting bpftrace: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var progs []*ebpf.Program
	run := newRunning(t, func() error {
		defer closeAll(progs)
		return stopByPID(cmd, exited, syscall.SIGINT, bpftraceExitTimeout)
	})

	pid := strconv.Itoa(cmd.Process.Pid)
	deadline := time.Now().Add(bpftraceLoadTimeout)
	for {
		select {
		case err := <-exited:
			exited <- err // for Stop
			return nil, fmt.Errorf("bpftrace exited before loading: %v\n%s", err, out.String())
		default:
		}
		ids, err := OwnedProgramIDs(pid)
		if err != nil {
			return nil, err
		}
		closeAll(progs)
		if progs, err = openNew(nil, ids, ""); err != nil {
			return nil, err
		}
		if hasAll(progs, names) {
			break
		}
		if time.Now().After(deadline) {
			_ = run.Stop()
			return nil, fmt.Errorf("bpftrace loaded no programs named %s within %v:\n%s",
				strings.Join(names, ", "), bpftraceLoadTimeout, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range progs {
		if !wanted(progName(p), names) {
			continue // bpftrace's own helpers (BEGIN/END): not per event
		}
		run.Programs = append(run.Programs, p)
		if progName(p) == perEvent {
			run.Events = append(run.Events, p)
		}
	}
	// Loaded is not attached: wait until every hook has fired.
	run.Ready = run.Programs
	return run, nil
}

// hasAll: a name listed k times needs k programs of that name (bpftrace
// names a uprobe's and a uretprobe's program alike, after the function).
func hasAll(progs []*ebpf.Program, names []string) bool {
	want := map[string]int{}
	for _, n := range names {
		want[n]++
	}
	for _, p := range progs {
		want[progName(p)]--
	}
	for _, k := range want {
		if k > 0 {
			return false
		}
	}
	return true
}

func wanted(name string, names []string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// stopByPID signals the process (never by name: other engineers run the
// same tools), waits, and kills it if it lingers.
func stopByPID(cmd *exec.Cmd, exited chan error, sig syscall.Signal, timeout time.Duration) error {
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s ignored %v for %v: killed", cmd.Path, sig, timeout)
	}
}
