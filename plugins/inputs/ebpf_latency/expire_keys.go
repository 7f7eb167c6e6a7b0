package ebpf_latency

import (
	"fmt"
	"time"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/idle"
)

// parseExpireIdle checks expire_idle_series into e.expireIdle: a Go
// duration, "0s" for never, idle.Default when unset.
func (e *EbpfLatency) parseExpireIdle() error {
	if e.ExpireIdleSeries == "" {
		e.expireIdle = idle.Default
		return nil
	}
	d, err := time.ParseDuration(e.ExpireIdleSeries)
	if err != nil || d < 0 {
		return fmt.Errorf("%s.expire_idle_series: bad duration %q (want e.g. \"15m\", or \"0s\" for never)", tablePrefix, e.ExpireIdleSeries)
	}
	e.expireIdle = d
	return nil
}
