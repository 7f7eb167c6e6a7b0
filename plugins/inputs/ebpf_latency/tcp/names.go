package tcp

// Measurements of the TCP probes.
const (
	MeasurementRTT         = "ebpf_tcp_rtt"
	MeasurementConnect     = "ebpf_tcp_connect_latency"
	MeasurementFailures    = "ebpf_tcp_connect"
	MeasurementRetransmits = "ebpf_tcp_retransmits"

	FieldFailed   = "failed"   // cumulative failed connects (SYN_SENT -> CLOSE)
	FieldSegments = "segments" // cumulative retransmitted segments
)

// Mirrors of the enums in bpf/tcp/tcp.h (bpf2go emits only types).
const (
	kindAddr  = 0
	kindGroup = 1
)

var (
	counterNames    = []string{"peers_folded", "series_full", "inflight_full", "passive_untimed", "active_untimed"}
	armCounterNames = []string{"sockets_armed", "sockets_arm_failed"}
	directionNames  = []string{"none", "active", "passive"}
)
