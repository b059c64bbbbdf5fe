#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# xen-vm.sh - run test programs in dom0 of a real Xen hypervisor under QEMU.
#
#   xen-vm.sh [--cache DIR] [--work DIR] [--timeout SECS] [--prog-timeout SECS]
#             [--dom0-vcpus N] [--env NAME=VALUE]... [--lib FILE]...
#             [--guest PROGRAM]... [--guest-mem MB]
#             [NAME=]PROGRAM... [--pair [NAME=]PROGRAM]...
#
# Fetches Debian's xen-hypervisor-4.17-amd64 and the current Debian 6.1
# kernel (apt-get download, kept in the cache folder), builds an initramfs
# with busybox, the dom0 event-channel modules and the PROGRAMs (statically
# linked), boots Xen with a Linux dom0 in qemu-system-x86_64 (TCG, no KVM),
# runs each PROGRAM in dom0 and reads every result back from the serial log.
#
# A PROGRAM may be dynamically linked: its shared libraries (ldd) and the
# loader are copied into the initramfs, with every --lib FILE (libraries it
# loads with dlopen, and theirs), and found through LD_LIBRARY_PATH.
# NAME= runs it under another name (to run two builds of one program).
#
# Each PROGRAM prints one line per case ("PASS name", "FAIL name ...",
# "SKIP name ...") and exits 0 (pass), 77 (skipped as a whole) or anything
# else (fail).  This script prints those lines with a per-program and a total
# count (and the cases of --pair programs, the differential test's seeds and
# the skips by reason), and exits 0 when the VM ran everything and nothing
# failed, 1 when a case or program failed or the VM did not finish, 77 when
# this machine cannot run the VM at all (no QEMU, no busybox-static, no
# package archive).
# With EVTCHNX_XEN_VM_REQUIRED=1 that last case is a failure too.
#
# Two domains: with --guest, dom0 also gets Xen's toolstack (xenstored,
# xenconsoled and xl from Debian's xen-utils-4.17 and its libraries, fetched
# with apt-get download like the hypervisor) and a guest: a PV domain booted
# with the same kernel and a busybox initramfs holding the --guest PROGRAMs
# (static), which its /init runs in order (no disk, no network).  Each
# --pair PROGRAM runs in dom0 with the guest (its domid in
# $EVTCHNX_XEN_GUEST), created when none runs and kept for the next one;
# the programs talk to the guest's over its console (xpeer.h).  Once the
# guest is gone, its console (kept by xenconsoled) is printed after the
# results of the program that ended it.

set -u

cache=${EVTCHNX_XEN_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/evtchnx-xen-vm}
work=
boot_timeout=${EVTCHNX_XEN_VM_TIMEOUT:-240}
prog_timeout=120
dom0_vcpus=${EVTCHNX_XEN_VM_DOM0_VCPUS:-2}
envs=()
progs=()
libs=()
guests=()
guest_mem=128
pairs=()

while [ $# -gt 0 ]; do
	case $1 in
	--cache) cache=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--timeout) boot_timeout=$2; shift 2 ;;
	--prog-timeout) prog_timeout=$2; shift 2 ;;
	--dom0-vcpus) dom0_vcpus=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--lib) libs+=("$2"); shift 2 ;;
	--guest) guests+=("$2"); shift 2 ;;
	--guest-mem) guest_mem=$2; shift 2 ;;
	--pair) progs+=("$2"); pairs+=("$2"); shift 2 ;;
	--) shift; progs+=("$@"); break ;;
	-h|--help) sed -n '3,42p' "$0"; exit 0 ;;
	-*) echo "xen-vm: unknown option $1" >&2; exit 2 ;;
	*) progs+=("$1"); shift ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/evtchnx-xen-vm.XXXXXX")
mkdir -p "$cache" "$work" || exit 1
cache=$(cd "$cache" && pwd)
work=$(cd "$work" && pwd)

log() { echo "xen-vm: $*" >&2; }

# The machine cannot run the VM at all: skip, unless a run is required.
cannot() {
	log "cannot run the Xen VM: $*"
	if [ "${EVTCHNX_XEN_VM_REQUIRED:-0}" = 1 ]; then
		log "EVTCHNX_XEN_VM_REQUIRED=1: failing"
		exit 1
	fi
	exit 77
}

[ ${#progs[@]} -gt 0 ] || { echo "xen-vm: no program to run" >&2; exit 2; }
for p in "${progs[@]}" "${guests[@]+"${guests[@]}"}"; do
	[ -x "${p#*=}" ] || { log "not an executable: ${p#*=}"; exit 1; }
done
if [ ${#pairs[@]} -gt 0 ] && [ ${#guests[@]} = 0 ]; then
	echo "xen-vm: --pair needs a --guest program" >&2
	exit 2
fi

qemu=$(command -v qemu-system-x86_64) ||
	cannot "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
busybox=
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
		busybox=$b
		break
	fi
done
[ -n "$busybox" ] || cannot "no statically linked busybox (Debian package busybox-static)"
for t in cpio gzip dpkg-deb timeout; do
	command -v $t >/dev/null || cannot "$t not found"
done

# ---- fetch (cached) ----------------------------------------------------

exec 9>"$cache/.lock"
flock 9

xen_pkg=xen-hypervisor-4.17-amd64
kabi=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { sub(/^linux-image-/, "", $2); print $2; exit }')
if [ -z "$kabi" ]; then
	# No package lists (offline, or apt-get update never ran): use what
	# the cache holds.
	kdeb=$(ls -t "$cache"/linux-image-6.1.*-amd64_*.deb 2>/dev/null | head -n 1)
	[ -n "$kdeb" ] || cannot "apt-cache does not know linux-image-amd64 and the cache is empty (run apt-get update)"
	kabi=$(basename "$kdeb" | sed -n 's/^linux-image-\(6\.1\.[^_]*\)_.*/\1/p')
fi
case $kabi in
6.1.*-amd64) ;;
*) cannot "linux-image-amd64 names kernel '$kabi', not a Debian 6.1 kernel" ;;
esac
kpkg=linux-image-$kabi

fetch() {
	local pkg=$1 deb
	deb=$(ls -t "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		log "downloading $pkg"
		(cd "$cache" && apt-get download "$pkg" >"$cache/apt-download.log" 2>&1) ||
			{ cat "$cache/apt-download.log" >&2; cannot "apt-get download $pkg failed"; }
		deb=$(ls -t "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1)
	fi
	[ -n "$deb" ] || cannot "apt-get download $pkg left no package"
	echo "$deb"
}
xen_deb=$(fetch "$xen_pkg") || exit $?
k_deb=$(fetch "$kpkg") || exit $?
# The toolstack and the libraries it needs, in the hypervisor's version.
tool_pkgs=(xen-utils-4.17 libxenmisc4.17 libxenstore4 libxencall1
	libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxendevicemodel1
	libxentoolcore1 libxentoollog1 libxenhypfs1 libyajl2)
tool_debs=()
if [ ${#guests[@]} -gt 0 ]; then
	for pkg in "${tool_pkgs[@]}"; do
		deb=$(fetch "$pkg") || exit $?
		tool_debs+=("$deb")
	done
fi

# Unpack only what the VM needs, once per package file.
unpack() {
	local deb=$1 dir=$2 stamp
	shift 2
	stamp=$dir/.done-$(echo "$*" | md5sum | cut -c1-12)
	[ -f "$stamp" ] && return 0
	mkdir -p "$dir" || return 1
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" "$@" || return 1
	touch "$stamp"
}
xdir=$cache/$(basename "$xen_deb" .deb)
kdir=$cache/$(basename "$k_deb" .deb)
mdir=./lib/modules/$kabi/kernel/drivers/xen
unpack "$xen_deb" "$xdir" --wildcards './boot/xen-*' ||
	{ log "cannot unpack $xen_deb"; exit 1; }
unpack "$k_deb" "$kdir" "./boot/vmlinuz-$kabi" "$mdir/xen-evtchn.ko" \
	"$mdir/xen-privcmd.ko" "$mdir/xenfs/xenfs.ko" "$mdir/xen-gntdev.ko" \
	"$mdir/xen-gntalloc.ko" ||
	{ log "cannot unpack $k_deb"; exit 1; }
# Every toolstack package into one tree (its own folder per set of files).
tdir=
if [ ${#tool_debs[@]} -gt 0 ]; then
	tdir=$cache/toolstack-$(for d in "${tool_debs[@]}"; do basename "$d"; done |
		md5sum | cut -c1-12)
	if [ ! -f "$tdir/.done" ]; then
		rm -rf "$tdir" && mkdir -p "$tdir" || exit 1
		for d in "${tool_debs[@]}"; do
			dpkg-deb -x "$d" "$tdir" || { log "cannot unpack $d"; exit 1; }
		done
		touch "$tdir/.done"
	fi
fi
xen_gz=$(ls "$xdir"/boot/xen-4.17*-amd64.gz 2>/dev/null | head -n 1)
[ -n "$xen_gz" ] || { log "no boot/xen-*.gz in $xen_deb"; exit 1; }
[ -f "$cache/xen.elf" ] && [ "$cache/xen.elf" -nt "$xen_gz" ] ||
	zcat "$xen_gz" >"$cache/xen.elf" || exit 1
flock -u 9

log "xen: $(basename "$xen_deb"), dom0 kernel: $kabi"

# ---- initramfs -------------------------------------------------------

root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules,xenvm/bin} || exit 1
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
cp "$kdir/$mdir/xen-evtchn.ko" "$kdir/$mdir/xen-privcmd.ko" \
	"$kdir/$mdir/xenfs/xenfs.ko" "$root/lib/modules/"
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
fi

plan=$root/xenvm/plan.sh
{
	echo "# generated by xen-vm.sh"
	for e in "${envs[@]+"${envs[@]}"}"; do
		printf 'export %q\n' "$e"
	done
} >"$plan"
# Shared libraries of dynamic programs (and of --lib files), and the loader.
add_libs() {
	local f=$1 dep
	[ -f "$root/xenvm/lib/$(basename "$f")" ] && return 0
	cp -L "$f" "$root/xenvm/lib/" || return 1
	for dep in $(ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }'); do
		case $dep in
		*/ld-linux*) mkdir -p "$root$(dirname "$dep")" && cp -L "$dep" "$root$dep" ;;
		*) add_libs "$dep" ;;
		esac
	done
}
mkdir -p "$root/xenvm/lib"
for l in "${libs[@]+"${libs[@]}"}"; do
	add_libs "$l" || { log "cannot copy library $l"; exit 1; }
done
echo 'export LD_LIBRARY_PATH=/xenvm/lib' >>"$plan"

names=()
for p in "${progs[@]}"; do
	case $p in
	*=*) n=${p%%=*}; p=${p#*=} ;;
	*) n=$(basename "$p") ;;
	esac
	cp "$p" "$root/xenvm/bin/$n" || exit 1
	if ldd "$p" >/dev/null 2>&1; then
		for dep in $(ldd "$p" | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }'); do
			case $dep in
			*/ld-linux*) mkdir -p "$root$(dirname "$dep")" && cp -L "$dep" "$root$dep" ;;
			*) add_libs "$dep" ;;
			esac
		done
	fi
	names+=("$n")
	run=xenvm_run
	for q in "${pairs[@]+"${pairs[@]}"}"; do
		[ "$q" = "$p" ] || [ "$q" = "$n=$p" ] && run=xenvm_pair
	done
	printf '%s %q %d /xenvm/bin/%q\n' $run "$n" "$prog_timeout" "$n" >>"$plan"
done

# ---- the toolstack and the guest ---------------------------------------

# Copy what FILE needs (ldd) into /xenvm/lib, the toolstack's libraries
# from the unpacked packages first.
add_deps() {
	local dep
	for dep in $(LD_LIBRARY_PATH=$tdir/usr/lib/x86_64-linux-gnu ldd "$1" |
			awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }'); do
		case $dep in
		*/ld-linux*) mkdir -p "$root$(dirname "$dep")" && cp -L "$dep" "$root$dep" ;;
		*) add_libs "$dep" ;;
		esac
	done
}
if [ ${#guests[@]} -gt 0 ]; then
	tb=usr/lib/xen-4.17/bin
	mkdir -p "$root/$tb" "$root/usr/sbin" "$root/xenvm/guest" || exit 1
	for b in xl xenstored xenconsoled xen-init-dom0; do
		cp "$tdir/$tb/$b" "$root/$tb/$b" || { log "no $b in xen-utils-4.17"; exit 1; }
		ln -s "../lib/xen-4.17/bin/$b" "$root/usr/sbin/$b"
		(export LD_LIBRARY_PATH=$tdir/usr/lib/x86_64-linux-gnu; add_deps "$tdir/$tb/$b") ||
			{ log "cannot copy the libraries of $b"; exit 1; }
	done
	cp "$kdir/$mdir/xen-gntdev.ko" "$kdir/$mdir/xen-gntalloc.ko" "$root/lib/modules/"
	# glibc loads libgcc_s at run time for pthread_cancel (xl does).
	gcc_s=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ { print $NF; exit }')
	[ -n "$gcc_s" ] && add_libs "$gcc_s"

	groot=$work/guest-root
	rm -rf "$groot"
	mkdir -p "$groot"/{bin,dev,proc,sys,tmp,lib/modules,xenvm/bin} || exit 1
	cp "$busybox" "$groot/bin/busybox"
	ln -s busybox "$groot/bin/sh"
	cp "$here/guest-init.sh" "$groot/init"
	chmod 755 "$groot/init"
	cp "$kdir/$mdir/xen-evtchn.ko" "$kdir/$mdir/xen-privcmd.ko" "$groot/lib/modules/"
	if [ "$(id -u)" = 0 ]; then
		mknod -m 600 "$groot/dev/console" c 5 1
		mknod -m 666 "$groot/dev/null" c 1 3
	fi
	gplan=$groot/xenvm/plan.sh
	echo "# generated by xen-vm.sh" >"$gplan"
	for g in "${guests[@]}"; do
		ldd "$g" >/dev/null 2>&1 && { log "a --guest program must be static: $g"; exit 1; }
		cp "$g" "$groot/xenvm/bin/" || exit 1
		printf 'xenvm_guest_run %q\n' "$(basename "$g")" >>"$gplan"
	done
	(cd "$groot" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
		>"$root/xenvm/guest/initrd.img" || { log "cannot build the guest's initramfs"; exit 1; }
	cp "$kdir/boot/vmlinuz-$kabi" "$root/xenvm/guest/vmlinuz" || exit 1
	cat >"$root/xenvm/guest/guest.cfg" <<-EOF
	name = "xenvm-guest"
	type = "pv"
	kernel = "/xenvm/guest/vmlinuz"
	ramdisk = "/xenvm/guest/initrd.img"
	extra = "console=hvc0 rdinit=/init quiet loglevel=1"
	memory = $guest_mem
	vcpus = 1
	on_poweroff = "destroy"
	on_reboot = "destroy"
	on_crash = "destroy"
	EOF
fi

(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
	>"$work/initrd.img" || { log "cannot build the initramfs"; exit 1; }

# ---- boot ------------------------------------------------------------

serial=$work/serial.log
rm -f "$serial"
log "booting Xen (timeout ${boot_timeout}s, serial log $serial)"
start=$(date +%s)
timeout -k 10 "$boot_timeout" "$qemu" -accel tcg -machine pc -cpu qemu64 \
	-smp 2 -m 1536 -display none -monitor none -no-reboot -nodefaults \
	-serial "file:$serial" \
	-kernel "$cache/xen.elf" \
	-append "console=com1 com1=115200,8n1 serial_tx_buffer=1M dom0_mem=512M,max:512M dom0_max_vcpus=$dom0_vcpus noreboot" \
	-initrd "$kdir/boot/vmlinuz-$kabi console=hvc0 earlyprintk=xen rdinit=/init quiet loglevel=1,$work/initrd.img" \
	>"$work/qemu.log" 2>&1
qrc=$?
log "QEMU exited with $qrc after $(($(date +%s) - start))s"
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
	log "the VM did not power off within ${boot_timeout}s"
fi
if [ ! -s "$serial" ]; then
	cat "$work/qemu.log"
	log "no serial output"
	exit 1
fi

# ---- results ---------------------------------------------------------

tr -d '\r' <"$serial" >"$work/serial.txt"
pair_names=()
for q in "${pairs[@]+"${pairs[@]}"}"; do
	case $q in
	*=*) pair_names+=("${q%%=*}") ;;
	*) pair_names+=("$(basename "$q")") ;;
	esac
done
EVTCHNX_VM_NAMES="${names[*]}" EVTCHNX_VM_PAIRS="${pair_names[*]+"${pair_names[*]}"}" awk '
BEGIN {
	n = split(ENVIRON["EVTCHNX_VM_NAMES"], names, " ")
	np = split(ENVIRON["EVTCHNX_VM_PAIRS"], pl, " ")
	for (i = 1; i <= np; i++) pair[pl[i]] = 1
	cur = ""; fail = 0
}
/@@XENVM BOOTED/ { booted = 1 }
/@@XENVM INFO / { sub(/.*@@XENVM INFO /, ""); print "xen-vm: info: " $0; next }
/@@XENVM GUEST / { sub(/.*@@XENVM GUEST /, ""); print "xen-vm: " cur " guest| " $0; next }
/@@XENVM BEGIN / { sub(/.*@@XENVM BEGIN /, ""); cur = $1; begun[cur] = 1; next }
/@@XENVM END / {
	sub(/.*@@XENVM END /, "")
	rc[$1] = substr($2, 4); secs[$1] = substr($3, 6); ended[$1] = 1; cur = ""; next
}
/@@XENVM DONE/ { done = 1; next }
cur != "" && /^(PASS|FAIL|SKIP)[: ] *[^ ]/ {
	kind = substr($0, 1, 4)
	print "xen-vm: " cur ": " $0
	cnt[cur, kind]++; tot[kind]++
	# "diff.MODE.seedN": a seed of the differential test.
	if ($2 ~ /^diff\./) {
		dk[kind]++
		if ($2 ~ /^diff\.two\./) dtwo[kind]++
	}
	if ((cur in pair) && $2 !~ /^diff\.dom0\./) two[kind]++
	if (kind == "SKIP") {
		# The reason: what follows "SKIP name: " (or "SKIP name ").
		r = $0; sub(/^SKIP[: ] *[^ :]+:? */, "", r)
		if (r == "") r = "(no reason given)"
		if (!(r in why)) order[++nwhy] = r
		why[r]++
	}
	next
}
cur != "" && /^BENCH / { print "xen-vm: " cur ": " substr($0, 7); next }
cur != "" { out[cur] = out[cur] "    | " $0 "\n" }
END {
	if (!booted) { print "xen-vm: dom0 never ran /init"; exit 1 }
	for (i = 1; i <= n; i++) {
		p = names[i]
		if (!begun[p]) { status = "NOT RUN (the VM stopped before it)"; fail = 1 }
		else if (!ended[p]) { status = "CRASHED or hung the VM"; fail = 1 }
		else if (rc[p] == 0) status = "ok"
		else if (rc[p] == 77) status = "skipped as a whole (exit 77)"
		else if (rc[p] == 137) { status = "killed by the in-VM timeout"; fail = 1 }
		else { status = "FAILED (exit " rc[p] ")"; fail = 1 }
		if (cnt[p, "FAIL"] > 0) fail = 1
		if ((status != "ok" && status !~ /^skipped/) || cnt[p, "FAIL"] > 0)
			printf "%s", out[p]
		printf "xen-vm: %-26s %s: %d passed, %d failed, %d skipped%s\n", p, status, \
			cnt[p, "PASS"], cnt[p, "FAIL"], cnt[p, "SKIP"], \
			secs[p] != "" ? " (" secs[p] "s)" : ""
	}
	if (!done) { print "xen-vm: the VM did not reach the end of its plan"; fail = 1 }
	printf "xen-vm: total on real Xen: %d passed, %d failed, %d skipped\n", \
		tot["PASS"], tot["FAIL"], tot["SKIP"]
	if (np > 0)
		printf "xen-vm: across two domains (dom0 and a guest): %d passed, %d failed, %d skipped\n", \
			two["PASS"], two["FAIL"], two["SKIP"]
	if (dk["PASS"] + dk["FAIL"] + dk["SKIP"] > 0)
		printf "xen-vm: differential seeds compared with the sim: %d agreed, %d differed, %d skipped (across two domains: %d agreed, %d differed)\n", \
			dk["PASS"], dk["FAIL"], dk["SKIP"], dtwo["PASS"], dtwo["FAIL"]
	for (i = 1; i <= nwhy; i++)
		printf "xen-vm: skipped %3d x %s\n", why[order[i]], order[i]
	exit fail
}' "$work/serial.txt"
rc=$?
if [ $rc != 0 ]; then
	log "serial log tail:"
	tail -n 40 "$work/serial.txt" | sed 's/^/    > /'
	exit 1
fi
exit 0
