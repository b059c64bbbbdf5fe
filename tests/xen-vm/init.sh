#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# /init of the test initramfs: bring up what a dom0 needs for event
# channels, run every program listed in /xenvm/plan.sh, print markers that
# xen-vm.sh reads back from the serial log, power off.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin

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

cd /tmp
. /xenvm/plan.sh

echo "@@XENVM DONE"
sync
poweroff -f
echo o >/proc/sysrq-trigger
sleep 30
