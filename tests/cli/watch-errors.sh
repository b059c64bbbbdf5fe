#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# watch-errors.sh EVTCHNX: `evtchnx watch` fails clearly, with the exit
# statuses of docs/cli.md, when there is nothing to watch or the options
# are wrong.
evtchnx=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_RUNTIME_DIR=$scratch
unset EVTCHNX_TARGET
fail=0

# expect STATUS PATTERN ARGS...: the exit status, and a line of stderr.
expect() {
	want=$1 pattern=$2
	shift 2
	"$evtchnx" "$@" >"$scratch/out" 2>"$scratch/err"
	got=$?
	if [ "$got" != "$want" ] || ! grep -q -- "$pattern" "$scratch/err" ||
	   [ -s "$scratch/out" ]; then
		echo "FAIL: evtchnx $*: exit $got (want $want), stderr:" >&2
		cat "$scratch/err" >&2
		fail=1
	else
		echo "ok: evtchnx $*: exit $got: $(head -n1 "$scratch/err")"
	fi
}

expect 3 "lab 'nosuchlab' is not running: start it with 'evtchnx lab start nosuchlab'" \
	watch --lab nosuchlab --count 1
expect 3 "lab 'nosuchlab' is not running" watch --target sim:nosuchlab --json --count 1
expect 3 "no lab given: name a running lab with --lab NAME" watch --count 1
expect 2 "watch shows shared sim labs" watch --target xen --count 1
expect 2 "not a lab name" watch --lab 'a/b' --count 1
expect 2 "--interval: not a number of milliseconds" watch --lab x --interval 5
expect 2 "--count: not a count" watch --lab x --count 0
expect 2 "watch takes no arguments" watch --lab x extra
expect 2 "Try 'evtchnx watch --help'" watch --lab x --bogus
exit $fail
