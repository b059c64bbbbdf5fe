#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# /init of the guest's initramfs: the event-channel modules, then every
# program of /xenvm/plan.sh in order, each bracketed by markers on the
# console (hvc0, which dom0's xenconsoled keeps in a file), then power off,
# which ends the domain.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin

mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /tmp
mount -t tmpfs tmpfs /tmp
echo 1 >/proc/sys/kernel/printk 2>/dev/null

echo "@@GUEST BOOTED $(uname -r)"
insmod /lib/modules/xen-evtchn.ko || echo "@@GUEST insmod xen-evtchn failed"
# Linux blocks every hypercall through privcmd in an unprivileged domain
# that is no device model's (it finds no "target" in xenstore) unless the
# module is loaded with unrestricted=1; evtchnx needs EVTCHNOP_status.
insmod /lib/modules/xen-privcmd.ko unrestricted=1 ||
	echo "@@GUEST insmod xen-privcmd failed"

xenvm_guest_run() {
	echo "@@GUEST BEGIN $1"
	"/xenvm/bin/$1"
	echo "@@GUEST END $1 rc=$?"
}

cd /tmp
. /xenvm/plan.sh

echo "@@GUEST DONE"
poweroff -f
echo o >/proc/sysrq-trigger
sleep 30
