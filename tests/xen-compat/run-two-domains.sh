#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# run-two-domains.sh EVTCHNX PINGPONG PROBE - run programs built against
# Xen's libxenevtchn, unmodified, on one shared sim lab through
# `evtchnx run`:
#
#   domain 1   PINGPONG serve 2 FILE N   offers a port to domain 2
#   domain 2   PINGPONG ping 1 FILE N    binds it, N round trips
#   domain 3   PROBE                     the API's behaviour, loopback
#   domain 0   PINGPONG N                both ends in one domain (as in dom0)
#
# Each program checks itself (PASS/FAIL lines, exit status); this script
# fails when any of them fails.

set -u
evtchnx=$1
pingpong=$2
probe=$3
rounds=2000
lab=xen-compat-$$
limit=60

dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
run() {
	d=$1
	shift
	timeout -k 5 $limit "$evtchnx" run --lab "$lab" --domid "$d" -- "$@"
}

pass=0
fail=0
result() {
	if [ "$2" = 0 ]; then
		echo "PASS $1"
		pass=$((pass + 1))
	else
		echo "FAIL $1 (exit $2)"
		fail=$((fail + 1))
	fi
}

# Without the launcher the programs use Xen's library, which needs Xen.
if [ ! -e /dev/xen/evtchn ]; then
	"$probe" >"$dir/direct.log" 2>&1
	rc=$?
	[ $rc != 0 ] && rc=0 || rc=1
	result "without_evtchnx_run_the_real_library_finds_no_xen" $rc
fi

echo "== two domains on sim:$lab: pingpong serve (domain 1) and ping (domain 2)"
run 1 "$pingpong" serve 2 "$dir/port" $rounds &
serve=$!
run 2 "$pingpong" ping 1 "$dir/port" $rounds
rc=$?
result "pingpong_ping_domain2" $rc
wait $serve
result "pingpong_serve_domain1" $?

echo "== probe as domain 3"
run 3 "$probe"
result "probe_domain3" $?

echo "== pingpong with both ends in domain 0"
run 0 "$pingpong" 200
result "pingpong_pair_domain0" $?

echo "xen-compat-sim: $pass passed, $fail failed"
[ $fail = 0 ]
