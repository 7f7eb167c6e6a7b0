package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
)

// minPollInterval refuses intervals that would only burn CPU: a gather reads
// every series from the kernel (about 5 ms for 10,000), and the shim's ticker
// panics on a non-positive interval (0 would mean "never" to the shim, which
// -poll_interval_disabled says explicitly).
const minPollInterval = 100 * time.Millisecond

// maxErrorLine bounds the one line printed for a startup error.
const maxErrorLine = 512

func checkPollInterval(d time.Duration) error {
	if d < minPollInterval {
		return fmt.Errorf("-poll_interval %v: must be at least %v (or use -poll_interval_disabled)", d, minPollInterval)
	}
	return nil
}

// readConfig reads at most one byte past ebpf_latency.MaxConfigBytes, so
// that a huge file (or /dev/zero) is refused without reading it all.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, ebpf_latency.MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	return data, nil
}

// errorLine is err as one line of at most maxErrorLine bytes (and a note).
func errorLine(err error) string {
	return ebpf_latency.Clip(strings.ReplaceAll(err.Error(), "\n", " "), maxErrorLine)
}
