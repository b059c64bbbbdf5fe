#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# The Debian packages from debian/, as a user gets them:
#   - dpkg-buildpackage -us -uc -b in a copy of the sources (the files git
#     knows, committed or not; never the build trees);
#   - lintian reports no error (E:) on the .debs;
#   - apt-get installs them on this machine; then, with nothing of the
#     build around, `evtchnx demo --quiet --rounds 100`, a python3 and a
#     lua5.4/luajit import, and the lab server at its packaged path;
#   - they are purged again (also when a step fails).
# Needs root (installs packages): otherwise it is skipped (exit 77).
#
# Usage: debian-packages.sh SOURCE_DIR WORK_DIR VERSION
set -euo pipefail
src=$1 work=$2 version=$3
die() { echo "debian-packages: FAIL: $*" >&2; exit 1; }
step() { echo; echo "==== debian-packages: $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "debian-packages: needs root to install packages: skipped"
	exit 77
fi
pkgs="libevtchnx1 libevtchnx-dev python3-evtchnx lua-evtchnx evtchnx-tools"
for p in $pkgs; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		die "$p is installed already: this test would remove it afterwards"
	fi
done

rm -rf "$work"
mkdir -p "$work/evtchnx"
step "copy the sources"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -co --exclude-standard -z |
		xargs -0 cp --parents -t "$work/evtchnx")
else
	(cd "$src" && tar --exclude='./build*' --exclude=./.git -cf - .) |
		tar -C "$work/evtchnx" -xf -
fi

step "dpkg-buildpackage -us -uc -b"
(cd "$work/evtchnx" && nice -n 10 dpkg-buildpackage -us -uc -b) \
	>"$work/build.log" 2>&1 || { tail -50 "$work/build.log"; die "dpkg-buildpackage failed"; }
debs=()
for p in $pkgs; do
	f=$(ls "$work/${p}_${version}_"*.deb 2>/dev/null | head -n1)
	[ -n "$f" ] || die "no ${p}_${version}_*.deb"
	debs+=("$f")
done
ls -l "$work"/*.deb

step "lintian"
lintian "$work"/*.deb 2>&1 | tee "$work/lintian.txt" || true
if grep -q '^E: ' "$work/lintian.txt"; then
	die "lintian reports errors"
fi

cleanup() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkgs >"$work/purge.log" 2>&1 || {
		cat "$work/purge.log"; echo "debian-packages: purge failed" >&2; }
}
trap cleanup EXIT

step "apt-get install ./*.deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]}" \
	>"$work/install.log" 2>&1 || { cat "$work/install.log"; die "apt-get install failed"; }

cd /
clean_env=(env -i PATH=/usr/bin:/bin HOME=/root)
step "evtchnx demo --quiet --rounds 100"
"${clean_env[@]}" timeout 120 evtchnx demo --quiet --rounds 100 || die "evtchnx demo failed"
step "python3 -c 'import evtchnx'"
"${clean_env[@]}" /usr/bin/python3 -c "
import evtchnx
assert evtchnx.__file__.startswith('/usr/lib/python3/dist-packages/'), evtchnx.__file__
assert evtchnx.version() == evtchnx.__version__ == '$version'
with evtchnx.Handle('sim', domid=1) as a, evtchnx.Handle('sim', domid=2) as b:
    q = b.bind_interdomain(1, a.alloc_unbound(2))
    assert b.wait(1.0) == q
print('python3: evtchnx', evtchnx.version(), 'from', evtchnx.__file__)
" || die "python3 import failed"
"${clean_env[@]}" /usr/bin/python3 -m evtchnx || die "python3 -m evtchnx failed"
for lua in lua5.4 luajit; do
	command -v "$lua" >/dev/null || continue
	step "$lua -e 'require \"evtchnx\"'"
	"${clean_env[@]}" "$lua" -e "
local evtchnx = require 'evtchnx'
assert(evtchnx.version() == '$version', evtchnx.version())
local a = evtchnx.open{target = 'sim', domid = 1}
local b = evtchnx.open{target = 'sim', domid = 2}
local q = b:bind_interdomain(1, a:alloc_unbound(evtchnx.DOMID_SELF, 2))
assert(b:wait(1000) == q)
print('$lua: evtchnx ' .. evtchnx.version())" || die "$lua require failed"
done
step "a shared lab starts its server from the packaged path"
"${clean_env[@]}" /usr/bin/python3 -c "
import os, evtchnx
with evtchnx.Handle('sim:debian-pkg-%d' % os.getpid()) as h:
    h.domain_create(1)
print('shared lab ok')" || die "shared lab failed"
echo "debian-packages: OK"
