#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Gives every file git tracks that names its licence but not its copyright
# the project's copyright line, as the REUSE specification wants (checked
# by the CTest test "reuse", `reuse lint`):
#
#   scripts/add-copyright.sh [-n] [FILE...]      (default: every tracked file)
#
# The line goes right after the file's SPDX licence line, in the same
# comment style ("# ", "/* ... */", "-- ", "<!-- ... -->"): that line with
# its licence tag and expression replaced by $copyright below.  Files that
# have a copyright line already, or no licence line in their first lines,
# are left alone (files that cannot carry a comment are covered by
# .reuse/dep5).  Idempotent: run it again after a merge brings
# new files.  -n only lists the files it would change.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

# REUSE-IgnoreStart
copyright='SPDX-FileCopyrightText: 2026 The evtchnx authors'
license_re='SPDX-License-Identifier: [A-Za-z0-9.+()-]+( (AND|OR|WITH) [A-Za-z0-9.+()-]+)*'
# REUSE-IgnoreEnd
head_lines=5

dry=0
if [ "${1-}" = -n ]; then
	dry=1
	shift
fi
if [ $# -gt 0 ]; then
	files=("$@")
else
	mapfile -t files < <(git ls-files)
fi

changed=0
for f in "${files[@]}"; do
	[ -f "$f" ] && [ ! -L "$f" ] || continue
	# REUSE-IgnoreStart
	grep -q 'SPDX-FileCopyrightText:' "$f" && continue
	# REUSE-IgnoreEnd
	line=$(head -n "$head_lines" "$f" | grep -n -m 1 -E "$license_re" || true)
	[ -n "$line" ] || continue
	n=${line%%:*}
	if [ "$dry" = 1 ]; then
		echo "$f"
	else
		awk -v n="$n" -v re="$license_re" -v c="$copyright" '
			{ print }
			NR == n { sub(re, c); print }' "$f" >"$f.copyright.tmp"
		chmod --reference="$f" "$f.copyright.tmp"
		mv "$f.copyright.tmp" "$f"
	fi
	changed=$((changed + 1))
done
echo "add-copyright: $changed file(s) $([ "$dry" = 1 ] && echo 'to change' || echo 'changed')" >&2
