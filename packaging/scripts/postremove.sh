#!/bin/sh
# telegraf-ebpf-latency: on purge (deb) or erase (rpm, $1 = 0), remove the
# telegraf user and group if this package created them and no telegraf
# package is there to use them.
state=/var/lib/telegraf-ebpf-latency
case "$1" in
purge | 0) ;;
*) exit 0 ;;
esac
if ! command -v telegraf >/dev/null 2>&1; then
	if [ -e "$state/created-user" ] && getent passwd telegraf >/dev/null; then
		userdel telegraf || true
	fi
	if [ -e "$state/created-group" ] && getent group telegraf >/dev/null; then
		groupdel telegraf || true
	fi
fi
rm -rf "$state"
exit 0
