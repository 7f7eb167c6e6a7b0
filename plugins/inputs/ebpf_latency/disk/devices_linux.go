package disk

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/tagvalue"
)

// deviceNames resolves kernel dev_t values to names through
// /sys/dev/block/MAJ:MIN/uevent, caching each answer: a device that
// disappears keeps the name it had, so its series keep their tags.
type deviceNames struct {
	sysfs string // "/sys" unless a test says otherwise
	names map[uint32]string
}

func newDeviceNames() *deviceNames {
	return &deviceNames{sysfs: "/sys", names: make(map[uint32]string)}
}

// name of kernel dev_t dev (MAJOR << 20 | MINOR); "MAJ:MIN" when sysfs has none.
func (d *deviceNames) name(dev uint32) string {
	if n, ok := d.names[dev]; ok {
		return n
	}
	majMin := fmt.Sprintf("%d:%d", dev>>20, dev&0xfffff)
	n := readDevName(fmt.Sprintf("%s/dev/block/%s/uevent", d.sysfs, majMin))
	if n == "" {
		return majMin // not cached: the device may appear later
	}
	d.names[dev] = tagvalue.Escape(n) // sysfs text is the kernel's: any byte but '/' and NUL
	return d.names[dev]
}

func readDevName(uevent string) string {
	f, err := os.Open(uevent)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "DEVNAME="); ok {
			return v
		}
	}
	return ""
}
