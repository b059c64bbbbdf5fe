#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Compares the ABI of a built libevtchnx.so.1 with the committed baseline
# abi/SONAME.abi, i.e. abi/libevtchnx.so.1.abi (libabigail's abidw dump of
# the released library), or writes a new baseline.
#
#   check-abi.sh --lib BUILD/lib/libevtchnx.so.1 --source-dir SRC [--update]
#
# Fails on what may break programs built against the baseline:
#   - abidiff reports an incompatible change (exit status bit 8: a function
#     or variable gone);
#   - abidiff reports any other change than added symbols: a changed
#     signature, a public struct's size or layout, a changed SONAME.
#     abidiff only flags these as "an ABI change" (bit 4) for a person to
#     judge, so here they fail until the baseline is updated on purpose;
#   - a function appears in a version node the baseline has already (a
#     released node is frozen: new functions go in a new node, see
#     docs/versioning.md).
# New functions or variables in a new node are reported and pass.
#
# --update rewrites the baseline from the given library, after showing the
# difference: only at a release, or with a deliberate SONAME bump.
#
# Exits 77 (a skip for CTest) when the library has no debug information
# (abidw needs DWARF to see the types: build RelWithDebInfo or Debug).
set -euo pipefail

script_dir=$(cd "$(dirname "$0")" && pwd)

die() { echo "check-abi: FAIL: $*" >&2; exit 1; }

lib='' source_dir='' update=0
while [ $# -gt 0 ]; do
	case "$1" in
	--lib) lib=$2; shift ;;
	--source-dir) source_dir=$2; shift ;;
	--update) update=1 ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ -n "$lib" ] && [ -n "$source_dir" ] || die "usage: check-abi.sh --lib LIB --source-dir SRC [--update]"
[ -f "$lib" ] || die "no library at $lib (build it first)"
for tool in abidw abidiff readelf; do
	command -v "$tool" >/dev/null ||
		die "$tool is not installed (Debian package abigail-tools; scripts/install-deps.sh)"
done

# One baseline per SONAME: after a deliberate SONAME bump there is none
# until it is written with --update.
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[ -n "$soname" ] || die "$lib has no SONAME"
baseline="$source_dir/abi/$soname.abi"
headers="$source_dir/include"

if ! readelf -S "$lib" | grep '\.debug_info' >/dev/null; then
	echo "check-abi: $lib has no debug information: nothing to compare (skipped)"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/evtchnx-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Only what include/evtchnx.h declares and the library exports; no source
# locations or build paths, so that the dump is the same from any checkout.
abidw --no-show-locs --no-corpus-path --no-comp-dir-path --type-id-style hash \
	--headers-dir "$headers" --drop-private-types --exported-interfaces-only \
	--out-file "$work/raw.abi" "$lib" || die "abidw failed on $lib"
src=$(cd "$source_dir" && pwd -P)
sed -e "s|path='$src/|path='|" -e "s|path='$source_dir/|path='|" "$work/raw.abi" >"$work/current.abi"

# NAME VERSION per exported function or variable of a dump.
symbols() {
	sed -n "s/.*<elf-symbol name='\([^']*\)' version='\([^']*\)'.*/\1 \2/p" "$1" | LC_ALL=C sort -u
}

if [ "$update" = 1 ]; then
	if [ -f "$baseline" ]; then
		set +e
		abidiff --no-show-locs --suppressions "$script_dir/sz-structs.suppr" "$baseline" "$work/current.abi"
		echo "check-abi: abidiff exit status $?"
		set -e
	fi
	cp "$work/current.abi" "$baseline"
	echo "check-abi: wrote $baseline ($(symbols "$baseline" | wc -l) symbols)"
	exit 0
fi

[ -f "$baseline" ] || die "no baseline $baseline (write one with --update)"

set +e
abidiff --no-show-locs --suppressions "$script_dir/sz-structs.suppr" "$baseline" "$work/current.abi" >"$work/report.txt" 2>&1
rc=$?
set -e
cat "$work/report.txt"
# abidiff's exit status is a bit set: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change.
if [ $((rc & 3)) -ne 0 ]; then
	die "abidiff could not compare (exit status $rc)"
fi
if [ $((rc & 8)) -ne 0 ]; then
	die "incompatible ABI change against $baseline: fix it, or bump the SONAME (docs/versioning.md)"
fi
# Anything removed or changed, in the summaries ("Functions changes summary:
# 0 Removed, 1 Changed, 0 Added function", the same for variables and for
# symbols without debug information), or another property of the library.
changed=$(sed -n 's/.*summary: \([0-9]*\) Removed[^,]*, \([0-9]*\) Changed.*/\1 \2/p' "$work/report.txt" |
	awk '{ n += $1 + $2 } END { print n + 0 }')
if [ "$changed" -ne 0 ] || grep -E -i 'SONAME changed|architecture changed|needed changed' "$work/report.txt"; then
	die "the ABI of functions or types in $baseline changed: keep it, or make the change deliberate (docs/versioning.md)"
fi

# New symbols only in new version nodes.
symbols "$baseline" >"$work/old.txt"
symbols "$work/current.abi" >"$work/new.txt"
cut -d' ' -f2 "$work/old.txt" | LC_ALL=C sort -u >"$work/old-nodes.txt"
frozen=$(LC_ALL=C comm -13 "$work/old.txt" "$work/new.txt" |
	awk 'NR == FNR { node[$1] = 1; next } ($2 in node) { print }' "$work/old-nodes.txt" -)
if [ -n "$frozen" ]; then
	echo "$frozen"
	nodes=$(cut -d' ' -f2 <<<"$frozen" | LC_ALL=C sort -u | paste -sd' ')
	die "symbols added to a released version node ($nodes): put them in a new node (docs/versioning.md)"
fi

added=$(LC_ALL=C comm -13 "$work/old.txt" "$work/new.txt" | wc -l)
if [ $((rc & 4)) -ne 0 ]; then
	echo "check-abi: compatible ABI change ($added symbol(s) added in new version nodes)"
else
	echo "check-abi: the ABI is the baseline's ($(wc -l <"$work/new.txt") symbols)"
fi
echo "check-abi: PASS"
