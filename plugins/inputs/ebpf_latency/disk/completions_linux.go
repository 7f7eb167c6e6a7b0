package disk

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/telegraf"
)

// CompletionsMeasurement compares, per disk and direction, the requests the
// block layer counted as finished with those the probe's hook saw.
const CompletionsMeasurement = "ebpf_disk_completions"

// The directions /sys/block/<dev>/stat counts, as disk ops: field 1 is reads
// completed, field 5 writes completed (Documentation/block/stat.rst).
var statDirections = []struct {
	op    uint8
	field int
}{{opRead, 0}, {opWrite, 4}}

const (
	opRead  = 0 // DISK_OP_READ
	opWrite = 1 // DISK_OP_WRITE
)

// completionCheck follows the kernel's own count of finished requests per
// disk from the probe's start. A request is counted by the kernel after its
// completion tracepoint fired, so reading the kernel first and the probe's
// map second never reports a completion as unseen that the hook did see.
type completionCheck struct {
	sysfs string
	base  map[string][2]uint64 // kernel counts at start, by disk name
}

func newCompletionCheck() *completionCheck {
	c := &completionCheck{sysfs: "/sys"}
	c.base = c.read()
	return c
}

// read returns the kernel's reads and writes completed of every disk.
func (c *completionCheck) read() map[string][2]uint64 {
	disks, _ := os.ReadDir(filepath.Join(c.sysfs, "block"))
	out := make(map[string][2]uint64, len(disks))
	for _, d := range disks {
		if n, ok := c.readDisk(d.Name()); ok {
			out[d.Name()] = n
		}
	}
	return out
}

func (c *completionCheck) readDisk(name string) ([2]uint64, bool) {
	var n [2]uint64
	b, err := os.ReadFile(filepath.Join(c.sysfs, "block", name, "stat"))
	if err != nil {
		return n, false
	}
	fields := strings.Fields(string(b))
	for i, d := range statDirections {
		if d.field >= len(fields) {
			return n, false
		}
		v, err := strconv.ParseUint(fields[d.field], 10, 64)
		if err != nil {
			return n, false
		}
		n[i] = v
	}
	return n, true
}

// sinceStart is the kernel's count for one disk since the probe started. A
// disk that appeared later started at zero; one whose count went backwards
// was created anew and counts from zero too.
func (c *completionCheck) sinceStart(name string, now [2]uint64) [2]uint64 {
	base := c.base[name]
	var d [2]uint64
	for i := range now {
		if now[i] < base[i] {
			base[i] = 0
		}
		d[i] = now[i] - base[i]
	}
	c.base[name] = base
	return d
}

// emit writes one line per wanted disk and direction with activity, and
// returns the completions the kernel counted that the probe never saw, on
// the wanted disks: the kernel skips the others' (the devices filter).
// kernelNow must be read before seen (see completionCheck).
func (c *completionCheck) emit(acc telegraf.Accumulator, kernelNow map[string][2]uint64,
	seen map[string][2]uint64, want func(string) bool, now time.Time) uint64 {
	var unseen uint64
	for name, counts := range kernelNow {
		kernel := c.sinceStart(name, counts)
		probe := seen[name]
		for i, d := range statDirections {
			if kernel[i] == 0 && probe[i] == 0 {
				continue
			}
			if !want(name) {
				continue
			}
			missed := uint64(0)
			if kernel[i] > probe[i] {
				missed = kernel[i] - probe[i]
			}
			unseen += missed
			acc.AddFields(CompletionsMeasurement, map[string]any{
				"kernel": kernel[i], "probe": probe[i], "unseen": missed,
			}, map[string]string{"device": name, "op": opName(d.op)}, now)
		}
	}
	return unseen
}
