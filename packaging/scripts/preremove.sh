#!/bin/sh
# telegraf-ebpf-latency: stop running plugin processes (found by their
# executable, never by name) so that their eBPF programs are detached before
# the binary goes; telegraf's execd would restart a plugin that merely
# exited, so restart telegraf after removing the package.
bin=/usr/bin/telegraf-ebpf-latency
for proc in /proc/[0-9]*; do
	if [ "$(readlink "$proc/exe" 2>/dev/null)" = "$bin" ]; then
		kill -TERM "${proc#/proc/}" 2>/dev/null || true
	fi
done
exit 0
