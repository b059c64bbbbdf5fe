#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# check-man.sh PAGE...: each page renders with man(1) without a warning.
status=0
for page in "$@"; do
	if [ ! -s "$page" ]; then
		echo "check-man: $page: missing or empty" >&2
		status=1
		continue
	fi
	warnings=$(MANWIDTH=80 man -l -Tutf8 "$page" 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then
		echo "check-man: $page:" >&2
		echo "$warnings" >&2
		status=1
	fi
done
exit $status
