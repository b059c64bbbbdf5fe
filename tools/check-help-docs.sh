#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# check-help-docs.sh EVTCHNX CLI-MD: the long options of each command's
# --help and of its synopsis line in docs/cli.md are the same.
evtchnx=$1
doc=$2
status=0
for cmd in demo status lab domain alloc wait send bind unbind watch listen ping; do
	help=$("$evtchnx" "$cmd" --help | grep -o -- '--[a-z][a-z-]*' |
		grep -v -- '^--help$' | sort -u | tr '\n' ' ')
	synopsis=$(sed -n '/^```$/,/^```$/p' "$doc" | sed -n '1,/^evtchnx help/p' |
		grep "^evtchnx $cmd " | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ')
	if [ "$help" != "$synopsis" ]; then
		echo "evtchnx $cmd: --help has '$help', docs/cli.md has '$synopsis'" >&2
		status=1
	fi
done
exit $status
