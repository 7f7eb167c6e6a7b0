//go:build linux

package testenv

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Netns is a network namespace made with `ip netns add`, deleted when the
// test ends. Code runs inside it through Run.
type Netns struct {
	Name string
	Path string // /run/netns/<Name>
}

var netnsSeq atomic.Uint32

// uniqueName is a short name no other test process picks: the PID and a
// per-process counter (interface names must fit 15 bytes).
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, os.Getpid()%100000, netnsSeq.Add(1))
}

// NewNetns makes a namespace with loopback up.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	n := &Netns{Name: uniqueName("tn")}
	n.Path = "/run/netns/" + n.Name
	runIP(t, "netns", "add", n.Name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
		}
	})
	n.IP(t, "link", "set", "lo", "up")
	return n
}

// IP runs `ip -n <ns> args...`.
func (n *Netns) IP(t testing.TB, args ...string) {
	t.Helper()
	runIP(t, append([]string{"-n", n.Name}, args...)...)
}

func runIP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// Run calls fn on an OS thread inside the namespace. Sockets fn creates
// stay in the namespace whatever thread uses them later. The thread is
// never unlocked, so it ends with its goroutine.
func (n *Netns) Run(t testing.TB, fn func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		fn()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Link is two namespaces joined by one link, with addresses on each end.
type Link struct {
	A, B     *Netns
	IfA, IfB string     // interface names inside A and B
	A4, B4   netip.Addr // IPv4 of each end
	A6, B6   netip.Addr // IPv6 of each end (veth only)
	subnet4  [2]byte    // 10.x.y.0/24
	subnet6  uint16     // fd00:0:x::/64
}

// randomSubnets picks 10.x.y.0/24 and fd00:0:z::/64 unlikely to clash with
// another test's, so assertions on peers see only this test's traffic.
func randomSubnets() ([2]byte, uint16) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return [2]byte{b[0], b[1]}, binary.BigEndian.Uint16(b[2:]) | 1
}

// V4 is host h of the link's IPv4 subnet.
func (l *Link) V4(h byte) netip.Addr {
	return netip.AddrFrom4([4]byte{10, l.subnet4[0], l.subnet4[1], h})
}

// V6 is host h of the link's IPv6 subnet.
func (l *Link) V6(h byte) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfd, 0x00
	binary.BigEndian.PutUint16(a[4:], l.subnet6)
	a[15] = h
	return netip.AddrFrom16(a)
}

// Subnet4 and Subnet6 are the link's prefixes, as CIDR strings.
func (l *Link) Subnet4() string { return netip.PrefixFrom(l.V4(0), 24).String() }
func (l *Link) Subnet6() string { return netip.PrefixFrom(l.V6(0), 64).String() }

// NewVethLink joins two fresh namespaces by a veth pair: A holds .1 and
// ::1, B holds .2 and ::2 of random subnets.
func NewVethLink(t testing.TB) *Link {
	t.Helper()
	l := &Link{A: NewNetns(t), B: NewNetns(t)}
	l.subnet4, l.subnet6 = randomSubnets()
	l.IfA, l.IfB = "va"+l.A.Name[2:], "vb"+l.B.Name[2:]
	runIP(t, "link", "add", l.IfA, "netns", l.A.Name, "type", "veth", "peer", "name", l.IfB, "netns", l.B.Name)
	l.A4, l.B4, l.A6, l.B6 = l.V4(1), l.V4(2), l.V6(1), l.V6(2)
	for _, end := range []struct {
		ns     *Netns
		dev    string
		v4, v6 netip.Addr
	}{{l.A, l.IfA, l.A4, l.A6}, {l.B, l.IfB, l.B4, l.B6}} {
		end.ns.IP(t, "addr", "add", end.v4.String()+"/24", "dev", end.dev)
		end.ns.IP(t, "addr", "add", end.v6.String()+"/64", "dev", end.dev, "nodad")
		end.ns.IP(t, "link", "set", end.dev, "up")
	}
	return l
}

// AddAddr adds more addresses to B's end (extra peers for A to reach).
func (l *Link) AddAddr(t testing.TB, addrs ...netip.Addr) {
	t.Helper()
	for _, a := range addrs {
		bits := "/24"
		if a.Is6() {
			bits = "/64"
			l.B.IP(t, "addr", "add", a.String()+bits, "dev", l.IfB, "nodad")
			continue
		}
		l.B.IP(t, "addr", "add", a.String()+bits, "dev", l.IfB)
	}
}

// Serve listens on addr ("host:port", network "tcp" or "tcp4") inside ns and
// hands each accepted connection to handle on its own goroutine, until the
// test ends; it returns the port.
func Serve(t testing.TB, ns *Netns, network, addr string, handle func(net.Conn)) int {
	t.Helper()
	var (
		ln  net.Listener
		err error
	)
	ns.Run(t, func() { ln, err = net.Listen(network, addr) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
