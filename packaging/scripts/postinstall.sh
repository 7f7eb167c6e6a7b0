#!/bin/sh
# telegraf-ebpf-latency: lets the telegraf user run the plugin with only the
# capabilities its probes need (docs/install.md, "Least privilege").
set -e
bin=/usr/bin/telegraf-ebpf-latency
state=/var/lib/telegraf-ebpf-latency

# The user telegraf's own package creates, created the same way if telegraf
# is not installed yet; remembered so that purge removes only what we made.
if ! getent group telegraf >/dev/null; then
	groupadd --system telegraf
	mkdir -p "$state" && touch "$state/created-group"
fi
if ! getent passwd telegraf >/dev/null; then
	useradd --system --gid telegraf --no-create-home --home-dir /etc/telegraf --shell /bin/false telegraf
	mkdir -p "$state" && touch "$state/created-user"
fi

# Only root and the telegraf group may run a binary that holds capabilities.
chown root:telegraf "$bin"
chmod 0750 "$bin"

# Hosts that grant the capabilities through systemd instead (docs/install.md,
# "Without file capabilities") say so once; upgrades then leave them off.
if grep -qsx 'FILE_CAPABILITIES=no' /etc/default/telegraf-ebpf-latency; then
	setcap -r "$bin" 2>/dev/null || true
	exit 0
fi

# Measured per probe; CAP_SYS_ADMIN is not granted (see docs/install.md).
caps=cap_bpf,cap_perfmon,cap_net_admin,cap_dac_read_search
release=$(uname -r)
major=${release%%.*}
minor=${release#*.}
minor=${minor%%[!0-9]*}
if [ "$major" -lt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -lt 8 ]; }; then
	# No CAP_BPF/CAP_PERFMON before 5.8: loading BPF needs CAP_SYS_ADMIN.
	caps=cap_sys_admin,cap_net_admin,cap_dac_read_search,cap_sys_resource
elif [ "$major" -eq 5 ] && [ "$minor" -lt 11 ]; then
	# Before 5.11 BPF maps are charged to RLIMIT_MEMLOCK.
	caps=$caps,cap_sys_resource
fi
setcap "$caps+ep" "$bin"
