#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# run_fuzzer.sh FUZZER CORPUS WORKDIR SECONDS [libFuzzer options...]
#
# Runs FUZZER for SECONDS over the committed CORPUS (read only: new inputs
# go to WORKDIR/new, crashes to WORKDIR/artifacts/).  Every corpus input is
# replayed first.  Exits non-zero on any finding (crash, leak, timeout,
# out-of-memory), as libFuzzer does.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 FUZZER CORPUS WORKDIR SECONDS [options]" >&2; exit 2; }
fuzzer=$1 corpus=$2 work=$3 seconds=$4
shift 4
rm -rf "$work/new"
mkdir -p "$work/new" "$work/artifacts"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" \
	"$work/new" "$corpus"
