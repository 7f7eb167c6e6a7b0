package tcp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	tcpbpf "github.com/ebpf-latency/telegraf-ebpf-latency/bpf/tcp"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/hooks"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// armExisting runs the tcp_arm iterator once in every network namespace,
// arming established connections for tcp_rtt's sock_ops callback. An
// iterator walks the namespace of whoever opens it: the plugin's own at
// once, the others through setns, which needs CAP_SYS_ADMIN. Without it the
// others are left alone and notArmed says why.
func armExisting(cfg *Config) (armed, failed uint64, notArmed, err error) {
	spec, err := tcpbpf.LoadArm()
	if err != nil {
		return 0, 0, nil, fmt.Errorf("reading the embedded tcp_arm object: %w", err)
	}
	if err := hooks.SetKnobs(spec, portKnobs(cfg)); err != nil {
		return 0, 0, nil, err
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("loading the socket iterator: %w", kernel.ExplainLoadError(err))
	}
	defer coll.Close()
	it, err := link.AttachIter(link.IterOptions{Program: coll.Programs[tcpbpf.ArmProgTcpArm]})
	if err != nil {
		return 0, 0, nil, fmt.Errorf("attaching the socket iterator: %w", err)
	}
	defer it.Close()
	errs := []error{drain(it)}
	if missing := kernel.Missing(kernel.CapSysAdmin); len(missing) > 0 {
		notArmed = &kernel.NeedError{Missing: missing, For: "setns into the other network namespaces, e.g. containers', to arm their connections"}
	} else {
		for _, ns := range otherNetworkNamespaces() {
			errs = append(errs, inNetns(ns, func() error { return drain(it) }))
		}
	}
	counts := probe.SumCounters(coll.Maps[tcpbpf.ArmMapTcpArmCounters], armCounterNames)
	return counts[armCounterNames[0]], counts[armCounterNames[1]], notArmed, errors.Join(errs...)
}

// drain runs the iterator once in the calling thread's network namespace.
func drain(it *link.Iter) error {
	r, err := it.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

// otherNetworkNamespaces lists one path per distinct network namespace in
// use other than the plugin's own: those of running processes and those
// `ip netns` keeps mounted.
func otherNetworkNamespaces() []string {
	paths, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	named, _ := filepath.Glob("/run/netns/*")
	seen := map[[2]uint64]bool{}
	var out []string
	for i, p := range append([]string{"/proc/self/ns/net"}, append(named, paths...)...) {
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil {
			continue // the process exited
		}
		id := [2]uint64{st.Dev, st.Ino}
		if !seen[id] {
			seen[id] = true
			if i > 0 {
				out = append(out, p)
			}
		}
	}
	return out
}

// inNetns runs fn on a thread moved into the namespace at path. The thread
// stays locked and so ends with its goroutine, never serving other code.
func inNetns(path string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			done <- nil // gone meanwhile: nothing to arm
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("entering network namespace %s: %w", path, err)
			return
		}
		done <- fn()
	}()
	return <-done
}
