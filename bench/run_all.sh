#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# run_all.sh - run every evtchnx benchmark and print a compact report.
#
#   sh bench/run_all.sh BUILD/bench
#
# BUILD/bench holds the benchmark programs (rtt, burst, ctl).  Extra
# arguments per program come from the environment, separated by spaces:
#   RTT_ARGS="-n 50000 -r 7" BURST_ARGS="-n 8000000" CTL_ARGS="-r 7" \
#       PY_ARGS="-n 10000" sh bench/run_all.sh BUILD/bench
# With BENCH_PYTHON set to a Python interpreter (and PYTHONPATH to
# BUILD/python), bench/py_pingpong.py runs too.
#
# Each program prints a machine-readable line per figure,
#   RESULT NAME median=M min=M max=M valid=V/N target<=T verdict=PASS
# (verdict PASS or FAIL against the figure's target from the design, INVALID
# when no round was valid, REPORT for a figure without a target).  The
# report repeats those lines and counts the verdicts.  It is a report, not
# a test: the exit status is 0 when every program ran to the end (whatever
# the figures), 1 when one failed.
set -u

bindir=${1:-.}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/evtchnx-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== evtchnx benchmarks =="
echo "machine: $(uname -srm), nproc $(nproc), build type ${BENCH_BUILD_TYPE:-unknown}"
case ${BENCH_BUILD_TYPE:-unknown} in
Release|RelWithDebInfo|MinSizeRel|unknown) ;;
*) echo "warning: build type '${BENCH_BUILD_TYPE}' is not optimised; figures are not representative" ;;
esac
if [ -r /proc/loadavg ]; then
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

failed=0
# run NAME ARGS...: run one program, show its output, keep it for the report.
# With $interp set, the program is a script run by that interpreter.
interp=
run() {
	name=$1
	shift
	prog="$bindir/$name"
	[ -n "$interp" ] && prog="$here/$name"
	echo
	echo "-- $name $*"
	if [ -n "$interp" ]; then
		[ -r "$prog" ] && found=1 || found=0
	else
		[ -x "$prog" ] && found=1 || found=0
	fi
	if [ "$found" = 0 ]; then
		echo "$name: $prog not found (build the 'bench' target first)"
		failed=1
		return
	fi
	# Each program has its own watchdog (-t, 300 or 600 s by default);
	# timeout(1) is only a backstop.
	# shellcheck disable=SC2086 # $interp is empty or one word on purpose
	{ timeout -k 10 900 $interp "$prog" "$@" 2>&1; echo $? >"$tmp/$name.rc"; } |
		tee "$tmp/$name.out"
	rc=$(cat "$tmp/$name.rc" 2>/dev/null || echo 1)
	if [ "$rc" != 0 ]; then
		echo "$name: FAILED (exit status $rc)"
		echo "$name FAILED (exit status $rc)" >>"$tmp/failures"
		failed=1
	fi
}

# shellcheck disable=SC2086 # the *_ARGS are split on purpose
run rtt ${RTT_ARGS:-}
# shellcheck disable=SC2086
run burst ${BURST_ARGS:-}
# shellcheck disable=SC2086
run ctl ${CTL_ARGS:-}
if [ -n "${BENCH_PYTHON:-}" ]; then
	interp=$BENCH_PYTHON
	# shellcheck disable=SC2086
	run py_pingpong.py --rtt "$bindir/rtt" ${PY_ARGS:-}
	interp=
fi
# Built where Xen's xenevtchn.h is installed (libxen-dev).
if [ -x "$bindir/xen_compat_rtt" ]; then
	# shellcheck disable=SC2086
	run xen_compat_rtt ${XEN_COMPAT_RTT_ARGS:-}
fi

echo
echo "== report: medians of the valid rounds, targets from the design (a report, not a test) =="
for name in rtt burst ctl py_pingpong.py xen_compat_rtt; do
	[ -f "$tmp/$name.out" ] || continue
	grep -E '^(ratio |memory |cpu |RESULT |burst note:|rtt note:|ctl set-up of the full)' "$tmp/$name.out"
done
[ -f "$tmp/failures" ] && cat "$tmp/failures"
if [ -r /proc/loadavg ]; then
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
# Figures with a target say PASS or FAIL; INVALID when no round was valid.
count() {
	cat "$tmp"/*.out 2>/dev/null | grep '^RESULT .* target[<>]' | grep -c "verdict=$1\$"
}
echo "targets: $(count PASS) PASS, $(count FAIL) FAIL, $(count INVALID) INVALID"
exit $failed
