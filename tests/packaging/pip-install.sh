#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# `pip install .` of bindings/python as its docs say: the library is
# installed into a fresh prefix, a venv (with Debian's setuptools, as
# --system-site-packages) gets the package built offline against that
# library (found with pkg-config), and then, with no LD_LIBRARY_PATH:
#   - evtchnx imports from the venv and loads the prefix's libevtchnx.so.1
#     (the extension's RUNPATH is the library's folder);
#   - importlib.metadata.version("evtchnx") == evtchnx.__version__ ==
#     evtchnx.version() == the library's version;
#   - a private lab works, and `python -m evtchnx` prints the versions.
# The sources are copied first: a build never writes into them.
#
# Usage: pip-install.sh BUILD_DIR SOURCE_DIR WORK_DIR PYTHON VERSION
set -euo pipefail
build=$1 src=$2 work=$3 python=$4 version=$5

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
echo "== install the library into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name evtchnx.pc | head -n1)")
[ -n "$pcdir" ] || { echo "FAIL: no evtchnx.pc under $prefix" >&2; exit 1; }

echo "== copy bindings/ and create the venv"
cp -r "$src/bindings" "$work/src"
"$python" -m venv --system-site-packages "$work/venv"

echo "== pip install --no-build-isolation --no-index (PKG_CONFIG_PATH=$pcdir)"
env -u LD_LIBRARY_PATH PKG_CONFIG_PATH="$pcdir" PIP_DISABLE_PIP_VERSION_CHECK=1 \
	"$work/venv/bin/python" -m pip install --no-build-isolation --no-index \
	--no-cache-dir "$work/src/python"

echo "== import from the venv"
cd "$work"
env -i PATH=/usr/bin:/bin "$work/venv/bin/python" - "$version" "$prefix" <<'PY'
import importlib.metadata as md
import os
import sys

import evtchnx

want, prefix = sys.argv[1], os.path.realpath(sys.argv[2])
where = os.path.realpath(evtchnx.__file__)
assert where.startswith(os.path.realpath(sys.prefix)), where
got = (md.version("evtchnx"), evtchnx.__version__, evtchnx.version())
assert got == (want, want, want), got
meta = md.metadata("evtchnx")
assert meta["Name"] == "evtchnx", meta["Name"]
with open("/proc/self/maps") as f:
    libs = {l.split()[-1] for l in f if "libevtchnx.so" in l}
assert libs and all(os.path.realpath(l).startswith(prefix) for l in libs), libs
with evtchnx.Handle("sim", domid=1) as a, evtchnx.Handle("sim", domid=2) as b:
    p = a.alloc_unbound(2)
    q = b.bind_interdomain(1, p)
    assert b.wait(1.0) == q
print("ok: evtchnx", got[0], "from", where, "with", sorted(libs)[0])
PY
out=$(env -i PATH=/usr/bin:/bin "$work/venv/bin/python" -m evtchnx)
echo "$out"
case "$out" in
*"evtchnx $version"*"libevtchnx $version"*) ;;
*) echo "FAIL: python -m evtchnx printed '$out'" >&2; exit 1 ;;
esac
echo "pip-install: OK"
