package main

import (
	"fmt"
	"strings"
)

// The dashboards' contents, independent of the backend: which histograms
// and counters are drawn, filtered by which variables, legends split by
// which tags. A backend (prometheus.go, influxdb.go) turns each into its
// query language.

// matcher selects one tag: equal to a dashboard variable (single value),
// matching one (multi-value, regex), or equal to a fixed value.
type matcher struct {
	tag      string
	variable string // "" for a fixed value
	value    string
	multi    bool
}

func is(tag, variable string) matcher     { return matcher{tag: tag, variable: variable} }
func within(tag, variable string) matcher { return matcher{tag: tag, variable: variable, multi: true} }
func fixed(tag, value string) matcher     { return matcher{tag: tag, value: value} }

// histogram is one latency histogram series set: its measurement, the tags
// that select it and the tags its p99/max lines are split by.
type histogram struct {
	measurement string
	where       []matcher
	by          []string
}

// counter is an ever-growing integer field drawn as a per-second rate.
type counter struct {
	measurement, field string
	where              []matcher
	by                 []string
}

// legend is the line name made of the by tags, in the backend's own
// placeholder syntax (format("device") -> "{{device}}" or "$tag_device").
func legend(by []string, format func(string) string, suffix string) string {
	parts := make([]string, 0, len(by)+1)
	for _, tag := range by {
		parts = append(parts, format(tag))
	}
	if suffix != "" {
		parts = append(parts, suffix)
	}
	return strings.Join(parts, " ")
}

// matcherSyntax spells a matcher in a query language: each format gets the
// tag and then the value or the variable's name.
type matcherSyntax struct{ fixed, single, multi string }

func (syn matcherSyntax) render(where []matcher) []string {
	parts := make([]string, 0, len(where))
	for _, m := range where {
		switch {
		case m.variable == "":
			parts = append(parts, fmt.Sprintf(syn.fixed, m.tag, m.value))
		case m.multi:
			parts = append(parts, fmt.Sprintf(syn.multi, m.tag, m.variable))
		default:
			parts = append(parts, fmt.Sprintf(syn.single, m.tag, m.variable))
		}
	}
	return parts
}

// perHost are the matchers every per-data-center panel starts with.
func perHost(more ...matcher) []matcher {
	return append([]matcher{is("dc", "dc"), within("host", "host")}, more...)
}

// section is a row of the dashboard: a histogram drawn as a heatmap and a
// p99/max time series, or counters drawn as rates; each panel repeated per
// data center.
type section struct {
	title, about string
	hist         *histogram
	counters     []namedCounter
}

type namedCounter struct {
	title string
	counter
}

var (
	disk = histogram{"ebpf_disk_latency",
		perHost(within("device", "device"), is("op", "op"), is("stage", "stage")),
		[]string{"device", "op", "stage"}}
	rtt         = histogram{"ebpf_tcp_rtt", perHost(within("peer", "peer")), []string{"peer"}}
	connect     = histogram{"ebpf_tcp_connect_latency", perHost(within("peer", "peer")), []string{"peer", "direction"}}
	syscallHist = histogram{"ebpf_syscall_latency", perHost(within("syscall", "syscall")), []string{"syscall", "comm"}}
	funcHist    = histogram{"ebpf_func_latency", perHost(within("function", "function")), []string{"binary", "function"}}
	runq        = histogram{"ebpf_runq_latency", perHost(), []string{"comm"}}
)

var sections = []section{
	{title: "Disk I/O latency", hist: &disk,
		about: "Block I/O latency of the selected devices, op and stage (queue: created to issued; service: issued to completed)."},
	{title: "TCP round-trip time", hist: &rtt, about: "Round-trip time samples per peer (address or peer group)."},
	{title: "TCP connect latency", hist: &connect,
		about:    "Handshake latency per peer: active (SYN sent to established) and passive (SYN-ACK to ACK).",
		counters: []namedCounter{{"Failed connects per second", counter{"ebpf_tcp_connect", "failed", perHost(within("peer", "peer")), []string{"peer"}}}}},
	{title: "TCP retransmits",
		about:    "Retransmitted segments per peer.",
		counters: []namedCounter{{"Retransmitted segments per second", counter{"ebpf_tcp_retransmits", "segments", perHost(within("peer", "peer")), []string{"peer"}}}}},
	{title: "Syscall latency", hist: &syscallHist, about: "Time from syscall entry to exit, per syscall and comm."},
	{title: "Function latency", hist: &funcHist, about: "User-space function latency (uprobe to uretprobe), per binary and function."},
	{title: "Run-queue latency", hist: &runq, about: "Time runnable tasks wait for a CPU."},
}

// The synchronous-commit chain: a commit waits for the primary's disk
// write, the round trip to the standby and the standby's disk write.
var (
	commitPrimaryDisk = histogram{"ebpf_disk_latency",
		[]matcher{is("dc", "primary_dc"), is("host", "primary_host"), fixed("op", "write"), fixed("stage", "service")},
		[]string{"host", "device"}}
	commitRTT = histogram{"ebpf_tcp_rtt",
		[]matcher{is("dc", "primary_dc"), is("host", "primary_host"), is("peer", "standby_peer")},
		[]string{"peer"}}
	commitStandbyDisk = histogram{"ebpf_disk_latency",
		[]matcher{is("dc", "standby_dc"), is("host", "standby_host"), fixed("op", "write"), fixed("stage", "service")},
		[]string{"host", "device"}}
)

type chainLink struct {
	title string
	hist  histogram
}

var commitChain = []chainLink{
	{"Disk writes of the primary ($primary_host in $primary_dc)", commitPrimaryDisk},
	{"RTT from the primary to the standby ($standby_peer)", commitRTT},
	{"Disk writes of the standby ($standby_host in $standby_dc)", commitStandbyDisk},
}

// variable is a dashboard variable whose values come from a query.
type variable struct {
	name, label string
	multi       bool   // several values (and All) may be selected
	current     string // preselected value, "" for Grafana's first
	// what lists the values: a tag of the measurements matching
	// measurement (a regex when it starts with ^), narrowed by where.
	tag         string
	measurement string
	where       []matcher
}

var variables = []variable{
	{name: "dc", label: "Data center", multi: true, tag: "dc", measurement: "ebpf_latency_probe"},
	{name: "host", label: "Host", multi: true, tag: "host", measurement: "ebpf_latency_probe", where: []matcher{within("dc", "dc")}},
	{name: "device", label: "Device", multi: true, tag: "device", measurement: "ebpf_disk_latency",
		where: []matcher{within("dc", "dc"), within("host", "host")}},
	{name: "op", label: "Op", current: "write", tag: "op", measurement: "ebpf_disk_latency",
		where: []matcher{within("dc", "dc"), within("host", "host"), within("device", "device")}},
	{name: "stage", label: "Stage", current: "service", tag: "stage", measurement: "ebpf_disk_latency",
		where: []matcher{within("dc", "dc"), within("host", "host"), within("device", "device")}},
	{name: "peer", label: "Peer", multi: true, tag: "peer", measurement: "^ebpf_tcp_",
		where: []matcher{within("dc", "dc"), within("host", "host")}},
	{name: "syscall", label: "Syscall", multi: true, tag: "syscall", measurement: "ebpf_syscall_latency",
		where: []matcher{within("dc", "dc"), within("host", "host")}},
	{name: "function", label: "Function", multi: true, tag: "function", measurement: "ebpf_func_latency",
		where: []matcher{within("dc", "dc"), within("host", "host")}},
	{name: "primary_dc", label: "Primary in", tag: "dc", measurement: "ebpf_latency_probe"},
	{name: "primary_host", label: "Primary host", tag: "host", measurement: "ebpf_disk_latency",
		where: []matcher{is("dc", "primary_dc")}},
	{name: "standby_dc", label: "Standby in", tag: "dc", measurement: "ebpf_latency_probe"},
	{name: "standby_host", label: "Standby host", tag: "host", measurement: "ebpf_disk_latency",
		where: []matcher{is("dc", "standby_dc")}},
	{name: "standby_peer", label: "Standby peer (group)", tag: "peer", measurement: "ebpf_tcp_rtt",
		where: []matcher{is("dc", "primary_dc"), is("host", "primary_host")}},
}
