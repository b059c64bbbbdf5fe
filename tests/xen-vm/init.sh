#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# /init of the test initramfs: bring up what a dom0 needs for event
# channels, run every program listed in /xenvm/plan.sh, print markers that
# xen-vm.sh reads back from the serial log, power off.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/sbin

mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The archive may lack /dev/console (built without root): talk to it now.
exec </dev/console >/dev/console 2>&1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /tmp /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo 1 >/proc/sys/kernel/printk 2>/dev/null

echo "@@XENVM BOOTED $(uname -r)"
for m in xen-evtchn xen-privcmd xenfs; do
	insmod "/lib/modules/$m.ko" || echo "@@XENVM INFO insmod $m failed"
done
mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen || echo "@@XENVM INFO mounting xenfs failed"
echo "@@XENVM INFO capabilities: $(cat /proc/xen/capabilities 2>/dev/null)"
echo "@@XENVM INFO cpus: $(grep -c ^processor /proc/cpuinfo)"
dmesg | grep -i -E 'xen:events|FIFO|2-level' | sed 's/^/@@XENVM INFO dmesg: /'
ls /dev/xen | tr '\n' ' ' | sed 's/^/@@XENVM INFO \/dev\/xen: /'
echo

# xenvm_run NAME SECONDS PROGRAM [ARGS...]: one program, bracketed by markers.
xenvm_run() {
	name=$1
	secs=$2
	shift 2
	echo "@@XENVM BEGIN $name"
	t0=$(date +%s)
	timeout -s KILL "$secs" "$@"
	rc=$?
	echo "@@XENVM END $name rc=$rc secs=$(($(date +%s) - t0))"
}

# With a guest in the archive: Xen's toolstack (xenstored first, then dom0's
# own entries, then xenconsoled, which keeps each guest's console in a file).
if [ -d /xenvm/guest ]; then
	export LD_LIBRARY_PATH=/xenvm/lib
	for m in xen-gntdev xen-gntalloc; do
		insmod "/lib/modules/$m.ko" || echo "@@XENVM INFO insmod $m failed"
	done
	mkdir -p /var/run/xenstored /var/lib/xenstored /var/lib/xen /var/run/xen \
		/var/log/xen/console /etc/xen /dev/pts
	# xenconsoled gives each guest console a pty.
	mount -t devpts devpts /dev/pts
	# dom0 has a fixed size: nothing to balloon.
	echo 'autoballoon="off"' >/etc/xen/xl.conf
	xenstored --pid-file /var/run/xenstored.pid >/tmp/xenstored.log 2>&1 ||
		{ echo "@@XENVM INFO xenstored failed:"; sed 's/^/@@XENVM INFO   /' /tmp/xenstored.log; }
	xen-init-dom0 >/tmp/init-dom0.log 2>&1 ||
		{ echo "@@XENVM INFO xen-init-dom0 failed:"; sed 's/^/@@XENVM INFO   /' /tmp/init-dom0.log; }
	xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest \
		--log-dir=/var/log/xen/console >/tmp/xenconsoled.log 2>&1 ||
		{ echo "@@XENVM INFO xenconsoled failed:"; sed 's/^/@@XENVM INFO   /' /tmp/xenconsoled.log; }
	echo "@@XENVM INFO toolstack: $(xl info 2>&1 | grep -E '^(xen_version|free_memory)' | tr -s ' ' | tr '\n' ' ')"
fi

# The guest's console, kept by xenconsoled, as @@XENVM GUEST lines; once
# the guest is gone.
xenvm_guest_log() {
	clog=/var/log/xen/console/guest-xenvm-guest.log
	xl domid xenvm-guest >/dev/null 2>&1 && return
	sleep 1
	# Without the peer's answers ("@@XP ..."), which are many.
	[ -f "$clog" ] && tr -d '\r' <"$clog" | grep -v '@@XP ' |
		sed 's/^/@@XENVM GUEST /'
	[ -f "$clog" ] &&
		echo "@@XENVM GUEST ($(grep -c '@@XP ' "$clog") answers of its peer on the console not shown)"
	rm -f "$clog"
}

# xenvm_pair NAME SECONDS PROGRAM [ARGS...]: a program with the guest,
# whose domid it finds in $EVTCHNX_XEN_GUEST.  The guest is created when
# none runs (the first program, or after one destroyed it) and kept for
# the next; its console follows once it is gone.
xenvm_pair() {
	name=$1
	secs=$2
	shift 2
	echo "@@XENVM BEGIN $name"
	t0=$(date +%s)
	if ! xl domid xenvm-guest >/dev/null 2>&1; then
		xl create /xenvm/guest/guest.cfg >/tmp/xl-create.log 2>&1 ||
			{ echo "xl create failed:"; cat /tmp/xl-create.log; }
		echo "@@XENVM INFO guest created in $(($(date +%s) - t0))s"
	fi
	if gid=$(xl domid xenvm-guest 2>/dev/null); then
		EVTCHNX_XEN_GUEST=$gid timeout -s KILL "$secs" "$@"
		rc=$?
	else
		echo "no guest domain"
		rc=99
	fi
	xenvm_guest_log
	echo "@@XENVM END $name rc=$rc secs=$(($(date +%s) - t0))"
}

cd /tmp
. /xenvm/plan.sh
if [ -d /xenvm/guest ]; then
	xl destroy xenvm-guest >/dev/null 2>&1
	xenvm_guest_log
fi

echo "@@XENVM DONE"
sync
poweroff -f
echo o >/proc/sysrq-trigger
sleep 30
