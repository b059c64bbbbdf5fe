#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# The whole check, as CI runs it: dependencies, a -Werror build in ./build,
# then every CTest test (unit, conformance, multiprocess, install, sanitize,
# python, lua, abi, and xen-vm when enabled).  Exits with ctest's status.
#
#   scripts/test.sh [-DSOME_OPTION=VALUE ...]   extra arguments go to cmake
#
# Re-running it only rebuilds what changed.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
jobs=2

header() {
	echo
	echo "======================================================================"
	echo "== $*"
	echo "======================================================================"
}

header "dependencies (scripts/packages.txt)"
bash scripts/install-deps.sh

header "configure ./build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVTCHNX_WERROR=ON -DEVTCHNX_XEN_VM_TESTS=ON "$@"

header "build ./build (-j$jobs)"
cmake --build build --parallel "$jobs"

header "test (ctest --test-dir build -j$jobs)"
status=0
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 1800 || status=$?

header "done: ctest exited with $status"
exit "$status"
