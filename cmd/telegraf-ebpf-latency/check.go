package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"golang.org/x/sys/unix"

	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/common/kernel"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency"
	"github.com/ebpf-latency/telegraf-ebpf-latency/plugins/inputs/ebpf_latency/probe"
)

// check is -check, the preflight: it validates the config, says what the
// host offers, then starts every configured probe for real and stops it
// again, printing one row per probe: the hook it uses, or why it cannot run
// and what to do. It returns the exit status: 0 only if every probe runs.
func check(configFile string, out io.Writer) int {
	plugin, err := loadPlugin(configFile) // the config run would use, validated the same way
	if err != nil {
		fmt.Fprintf(out, "config: %s\n", errorLine(err))
		return 1
	}
	prereq := kernel.CheckPrerequisites()
	describeHost(out)
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tHOOK\tRESULT\tREMEDY")
	status := 0
	for _, name := range plugin.Probes {
		r := checkProbe(plugin, name, prereq)
		if !r.ok {
			status = 1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, r.hook, r.result, r.remedy)
	}
	tw.Flush()
	return status
}

// describeHost prints what the probes depend on, one fact a line.
func describeHost(out io.Writer) {
	var u unix.Utsname
	_ = unix.Uname(&u)
	btf := "present at " + kernel.BTFPath
	if _, err := os.Stat(kernel.BTFPath); err != nil {
		btf = "missing: " + kernel.ErrNoBTF.Error()
	}
	cgroup, err := kernel.Cgroup2Mount()
	if err != nil {
		cgroup = "none: " + err.Error() + "; tcp_rtt falls back from sock_ops to tcp:tcp_probe"
	}
	caps := "none of the relevant ones"
	if held := kernel.Held(kernel.Relevant...); len(held) > 0 {
		caps = strings.ReplaceAll(kernel.CapNames(held), " and ", ", ")
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "kernel\t%s\n", unix.ByteSliceToString(u.Release[:]))
	fmt.Fprintf(tw, "BTF\t%s\n", btf)
	fmt.Fprintf(tw, "lockdown\t%s\n", kernel.Lockdown())
	fmt.Fprintf(tw, "cgroup v2\t%s\n", cgroup)
	fmt.Fprintf(tw, "tracefs\t%s\n", kernel.TracefsStatus())
	fmt.Fprintf(tw, "capabilities\t%s (uid %d)\n", caps, os.Geteuid())
	tw.Flush()
}

// probeCheck is one row of the table.
type probeCheck struct {
	ok                   bool
	hook, result, remedy string
}

// checkProbe starts one probe the way the plugin would and stops it.
func checkProbe(plugin *ebpf_latency.EbpfLatency, name string, prereq error) probeCheck {
	if prereq != nil {
		reason := prereq.Error()
		if need := (*kernel.NeedError)(nil); errors.As(prereq, &need) {
			reason = need.Error()
		}
		return probeCheck{hook: "-", result: "cannot run: " + reason, remedy: remedyFor(prereq)}
	}
	def, _ := probe.Lookup(name)
	log := &checkLog{}
	p := def.New(plugin.Configs[def.ConfigKey()], log)
	if err := p.Start(); err != nil {
		return probeCheck{hook: "-", result: "cannot run: " + errorLine(err), remedy: remedyFor(err)}
	}
	hook := p.Status().Hook
	stopErr := p.Stop()
	switch {
	case len(log.errors) > 0:
		return probeCheck{hook: hook, result: "runs in part: " + strings.Join(log.errors, "; "), remedy: "fix or remove what failed"}
	case stopErr != nil:
		return probeCheck{hook: hook, result: "ran, but stopping failed: " + stopErr.Error(), remedy: "report this"}
	}
	r := probeCheck{ok: true, hook: hook, result: "ok", remedy: "-"}
	var fellBack []string
	for _, w := range log.warnings {
		if _, why, ok := strings.Cut(w, "fell back: "); ok {
			fellBack = append(fellBack, why)
		}
	}
	if len(fellBack) > 0 {
		r.result = "ok, fell back: " + strings.Join(fellBack, "; ")
		if need := neededCaps.FindString(r.result); need != "" {
			r.remedy = "for the better hook, grant " + strings.TrimPrefix(need, "needs ")
		}
	}
	return r
}

// neededCaps finds "needs CAP_X and CAP_Y" in a fallback reason.
var neededCaps = regexp.MustCompile(`needs CAP_[A-Z_]+( and CAP_[A-Z_]+)*`)

// remedyFor turns a reason into what the operator can do about it.
func remedyFor(err error) string {
	var need *kernel.NeedError
	switch {
	case errors.As(err, &need):
		return "grant " + kernel.CapNames(need.Missing) + " (the package's setcap, or AmbientCapabilities= in a systemd drop-in: docs/install.md)"
	case errors.Is(err, kernel.ErrNoBTF):
		return "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y"
	case strings.Contains(err.Error(), "cgroup v2"):
		return "mount cgroup2 (e.g. mount -t cgroup2 none /sys/fs/cgroup/unified) or use hook = \"auto\""
	case strings.Contains(err.Error(), "lockdown"):
		return "check kernel lockdown, LSM policy and kernel.unprivileged_bpf_disabled (docs/install.md, Troubleshooting)"
	}
	return "see docs/install.md, Troubleshooting"
}
