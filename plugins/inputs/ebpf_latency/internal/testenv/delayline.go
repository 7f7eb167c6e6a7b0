//go:build linux

package testenv

import (
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DelayLine joins two fresh namespaces by a pair of TUN devices and
// forwards IP packets between them in user space, each one held for a
// fixed one-way delay (this kernel has no netem). Packets keep their order.
// Forwarding runs on real-time threads, so that a busy machine does not
// stretch the delay; both ends ACK at once (route option quickack), so a
// TCP RTT sample is the line's round trip, not the peer's ACK delay.
// DropAToB makes it lose segments on purpose.
type DelayLine struct {
	Link
	Delay time.Duration
	drop  atomic.Int64 // packets A->B still to drop
	stop  atomic.Bool
}

type tunPacket struct {
	data []byte
	due  time.Time
}

// NewDelayLine makes the two namespaces and starts forwarding; A holds
// 10.x.y.1, B 10.x.y.2 (point to point). Everything stops at test end.
func NewDelayLine(t testing.TB, delay time.Duration) *DelayLine {
	t.Helper()
	d := &DelayLine{Link: Link{A: NewNetns(t), B: NewNetns(t)}, Delay: delay}
	d.subnet4, d.subnet6 = randomSubnets()
	d.A4, d.B4 = d.V4(1), d.V4(2)
	d.IfA, d.IfB = "ta"+d.A.Name[2:], "tb"+d.B.Name[2:]
	tunA := openTun(t, d.A, d.IfA)
	tunB := openTun(t, d.B, d.IfB)
	for _, end := range []struct {
		ns          *Netns
		dev         string
		local, peer netip.Addr
	}{{d.A, d.IfA, d.A4, d.B4}, {d.B, d.IfB, d.B4, d.A4}} {
		end.ns.IP(t, "addr", "add", end.local.String(), "peer", end.peer.String(), "dev", end.dev)
		end.ns.IP(t, "link", "set", end.dev, "up")
		end.ns.IP(t, "route", "replace", end.peer.String(), "dev", end.dev, "src", end.local.String(), "quickack", "1")
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go d.forward(t, tunA, tunB, &d.drop, &wg)
	go d.forward(t, tunB, tunA, new(atomic.Int64), &wg)
	t.Cleanup(func() {
		d.stop.Store(true)
		wg.Wait()
		unix.Close(tunA) // the devices vanish with their fds
		unix.Close(tunB)
	})
	return d
}

// DropAToB loses the next n TCP segments carrying data from A to B.
func (d *DelayLine) DropAToB(n int) { d.drop.Add(int64(n)) }

// forward moves packets from src to dst, each written once its due time
// has come. One locked real-time thread reads and writes, so no Go
// scheduling sits between a packet's due time and its write.
func (d *DelayLine) forward(t testing.TB, src, dst int, drop *atomic.Int64, wg *sync.WaitGroup) {
	defer wg.Done()
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 10}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		t.Logf("delay line runs without real-time priority: %v", err)
	}
	var queue []tunPacket
	buf := make([]byte, 65536)
	fds := []unix.PollFd{{Fd: int32(src), Events: unix.POLLIN}}
	for !d.stop.Load() {
		wait := 50 * time.Millisecond
		if len(queue) > 0 {
			wait = max(time.Until(queue[0].due), 0)
		}
		ts := unix.NsecToTimespec(wait.Nanoseconds())
		if _, err := unix.Ppoll(fds, &ts, nil); err != nil && err != unix.EINTR {
			t.Errorf("delay line: ppoll: %v", err)
			return
		}
		for {
			n, err := unix.Read(src, buf)
			if err != nil {
				break // EAGAIN: drained
			}
			if drop.Load() > 0 && isTCPData(buf[:n]) && drop.Add(-1) >= 0 {
				continue
			}
			queue = append(queue, tunPacket{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(d.Delay)})
		}
		now := time.Now()
		for len(queue) > 0 && !queue[0].due.After(now) {
			_, _ = unix.Write(dst, queue[0].data)
			queue = queue[1:]
		}
	}
}

// isTCPData tells an IPv4 TCP segment with payload (not a bare ACK, nor
// the IPv6 chatter a link makes on its own).
func isTCPData(pkt []byte) bool {
	if len(pkt) < 20 || pkt[0]>>4 != 4 || pkt[9] != unix.IPPROTO_TCP {
		return false
	}
	ihl := int(pkt[0]&0x0f) * 4
	if len(pkt) < ihl+13 {
		return false
	}
	total := int(pkt[2])<<8 | int(pkt[3])
	return total > ihl+int(pkt[ihl+12]>>4)*4
}

// openTun creates TUN device name inside ns (IFF_TUN, no packet info) and
// returns its non-blocking fd; the device vanishes when the fd is closed.
func openTun(t testing.TB, ns *Netns, name string) int {
	t.Helper()
	var (
		fd  int
		err error
	)
	ns.Run(t, func() {
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return
		}
		var ifr struct {
			name  [unix.IFNAMSIZ]byte
			flags uint16
			_     [22]byte
		}
		copy(ifr.name[:], name)
		ifr.flags = unix.IFF_TUN | unix.IFF_NO_PI
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
			unix.Close(fd)
			err = errors.Join(errors.New("TUNSETIFF "+name), errno)
		}
	})
	if err != nil {
		t.Fatalf("creating TUN device %s: %v", name, err)
	}
	return fd
}
