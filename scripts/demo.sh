#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Builds evtchnx in ./build and runs the demo, examples/demo/demo.py: a
# Python control domain, a C guest and a Lua guest on one shared sim lab.
# Arguments are passed on to the demo (--rounds N, --lua luajit).  The
# C-only demonstration is ./build/bin/evtchnx demo.
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

header "examples/demo/demo.py --build build $*"
exec /usr/bin/python3 examples/demo/demo.py --build build "$@"
