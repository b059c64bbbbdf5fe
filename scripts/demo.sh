#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Builds evtchnx in ./build and runs `evtchnx demo`; arguments are passed on
# to the demo.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

header() {
	echo
	echo "== $*"
}

header "dependencies (scripts/packages.txt)"
bash scripts/install-deps.sh

header "configure ./build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo

header "build ./build (-j2)"
cmake --build build --parallel 2

header "./build/bin/evtchnx demo $*"
exec ./build/bin/evtchnx demo "$@"
