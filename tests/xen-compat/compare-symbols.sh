#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# compare-symbols.sh REAL COMPAT - compare the dynamic symbols, their
# versions, the version nodes (with their parents) and the SONAME of the
# compatibility libxenevtchn.so.1 (COMPAT) with Debian's (REAL).
#
# Prints "PASS what" / "FAIL what" per item and exits 0 when COMPAT exports
# exactly what REAL exports, under the same versions; 1 on any missing,
# misversioned or extra symbol or node; 77 when REAL is not installed.

set -u
real=$1
compat=$2

if [ ! -e "$real" ]; then
	echo "xen-compat-symbols: $real not found (Debian package libxen-dev or libxenevtchn1): nothing to compare with"
	exit 77
fi
for t in objdump readelf; do
	command -v $t >/dev/null || { echo "xen-compat-symbols: $t not found (binutils)"; exit 1; }
done
[ -e "$compat" ] || { echo "xen-compat-symbols: $compat not found"; exit 1; }

# "VERSION NAME" for each symbol the library defines.
symbols() {
	objdump -T "$1" | awk '$2 == "g" && $4 != "*UND*" && NF >= 7 { print $(NF-1), $NF }' | sort
}
# "node NAME [parent PARENT]" for each version definition but the base.
nodes() {
	readelf -V "$1" | awk '
		/Version definition section/ { on = 1; next }
		/Version needs section|Version symbols section/ { on = 0 }
		on && /Name:/ && !/Flags: BASE/ { if (cur != "") print line; cur = $NF; line = "node " cur }
		on && /Parent 1:/ { line = line " parent " $NF }
		END { if (cur != "") print line }' | sort
}
soname() {
	readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/soname \1/p'
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for lib in real compat; do
	eval f=\$$lib
	{ symbols "$f"; nodes "$f"; soname "$f"; } >"$tmp/$lib"
done
if [ ! -s "$tmp/real" ]; then
	echo "FAIL read_real_library (no symbols read from $real)"
	exit 1
fi

fail=0
pass=0
while read -r line; do
	if grep -qxF "$line" "$tmp/compat"; then
		echo "PASS $line"
		pass=$((pass + 1))
	else
		name=${line##* }
		other=$(awk -v n="$name" '$NF == n' "$tmp/compat" | head -n 1)
		if [ -n "$other" ]; then
			echo "FAIL $line (compat has: $other)"
		else
			echo "FAIL $line (missing from the compatibility library)"
		fi
		fail=$((fail + 1))
	fi
done <"$tmp/real"
while read -r line; do
	if ! grep -qxF "$line" "$tmp/real"; then
		echo "FAIL $line (exported by the compatibility library, not by $real)"
		fail=$((fail + 1))
	fi
done <"$tmp/compat"
echo "xen-compat-symbols: $real against $compat"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
