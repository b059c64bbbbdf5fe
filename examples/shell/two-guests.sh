#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# two-guests.sh - two guests exchange events on a shared lab, orchestrated
# with nothing but the evtchnx command-line tool.  Exits non-zero on any
# surprise.
#
#   two-guests.sh [PATH-TO-evtchnx]
set -eu

EVTCHNX=${1:-evtchnx}
LAB=two-guests-$$
OUT=$(mktemp -d)

fail() {
	echo "two-guests: $*" >&2
	exit 1
}

cleanup() {
	"$EVTCHNX" lab stop "$LAB" >/dev/null 2>&1 || true
	rm -rf "$OUT"
}
trap cleanup EXIT

# ready FILE: wait until a background command has written its first line.
ready() {
	i=0
	until [ -s "$1" ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "no first line in $1"
		sleep 0.01
	done
}

# expect WANT COMMAND...: run the command, check its exit status.
expect() {
	want=$1
	shift
	set +e
	"$@" >"$OUT/last" 2>"$OUT/err"
	got=$?
	set -e
	[ "$got" = "$want" ] || fail "'$*' exited $got, not $want: $(cat "$OUT/err")"
}

# A lab that lives until it is stopped, with domains 1 and 2.
"$EVTCHNX" lab start "$LAB"
"$EVTCHNX" lab list --json | grep -q "\"name\":\"$LAB\"" || fail "lab $LAB not listed"
"$EVTCHNX" domain create --lab "$LAB" 1 2

# dom0 offers a port in dom1 to dom2, and one in dom2 to dom1.
P1=$("$EVTCHNX" alloc --lab "$LAB" --dom 1 --remote 2)
P2=$("$EVTCHNX" alloc --lab "$LAB" --dom 2 --remote 1 --json |
	sed -n 's/.*"port":\([0-9]*\).*/\1/p')
"$EVTCHNX" status --lab "$LAB" --json 1 "$P1" |
	grep -q "\"state\":\"unbound\",\"remote_dom\":2" || fail "port $P1 of dom1 not offered to dom2"

# dom2 sends to dom1's port; the event waits in the lab until dom1
# collects it.
"$EVTCHNX" send --lab "$LAB" --domid 2 1 "$P1" >/dev/null
"$EVTCHNX" wait --lab "$LAB" --domid 1 --port "$P1" --timeout 5000 --json >"$OUT/w1" ||
	fail "dom1 did not get dom2's event"
grep -q "{\"event\":1,\"dom\":1,\"port\":$P1}" "$OUT/w1" || fail "unexpected: $(cat "$OUT/w1")"

# And back: dom1 sends, dom2 collects.
"$EVTCHNX" send --lab "$LAB" --domid 1 2 "$P2" >/dev/null
"$EVTCHNX" wait --lab "$LAB" --domid 2 --port "$P2" --timeout 5000 --json >"$OUT/w2" ||
	fail "dom2 did not get dom1's event"
grep -q "\"event\":1" "$OUT/w2" || fail "unexpected: $(cat "$OUT/w2")"

# A channel held by a running command: both ends are interdomain.
P3=$("$EVTCHNX" alloc --lab "$LAB" --dom 1 --remote 2)
"$EVTCHNX" bind --lab "$LAB" --domid 2 --json 1 "$P3" >"$OUT/b" &
B=$!
ready "$OUT/b"
"$EVTCHNX" status --lab "$LAB" --json 1 "$P3" |
	grep -q '"state":"interdomain","remote_dom":2' || fail "port $P3 of dom1 is not bound"
kill -TERM "$B"
wait "$B" || fail "bind did not leave cleanly on SIGTERM"
"$EVTCHNX" status --lab "$LAB" --json 1 "$P3" |
	grep -q '"state":"unbound","remote_dom":2' || fail "port $P3 of dom1 not offered again"

# Nobody holds it: close it for dom1.
"$EVTCHNX" unbind --lab "$LAB" --domid 1 "$P3"

# Errors have stable exit statuses.
expect 4 "$EVTCHNX" wait --lab "$LAB" --domid 2 --port "$("$EVTCHNX" alloc --lab "$LAB" --dom 2 --remote 1)" --timeout 100
expect 1 "$EVTCHNX" domain create --lab "$LAB" 1
expect 2 "$EVTCHNX" alloc --lab "$LAB" --dom 1
expect 3 "$EVTCHNX" status --lab "nolab-$$"

# Tear down.
"$EVTCHNX" domain destroy --lab "$LAB" 1 2
expect 1 "$EVTCHNX" status --lab "$LAB" 1
"$EVTCHNX" lab stop "$LAB"
expect 3 "$EVTCHNX" status --lab "$LAB"
echo "two-guests OK"
