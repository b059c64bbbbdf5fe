#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# The Lua binding without a build tree, as docs/lua.md describes it:
#   - the library is installed into a fresh prefix (with the SWIG wrapper's
#     source, share/evtchnx/lua/evtchnx_lua_wrap.c);
#   - `luarocks --lua-version 5.4 make --tree T` of bindings/lua's rockspec
#     (offline) builds the module against it (pkg-config), and lua5.4 with
#     package.path/cpath set to T requires it and runs a private lab;
#   - examples/lua/embed.c, compiled with the installed wrapper source and
#     pkg-config only, runs examples/lua/channels.lua;
#   - bindings/lua/lua-env.sh, sourced, sets the paths and never ends the
#     shell, also on a usage error.
# The sources are copied first: a build never writes into them.
#
# Usage: luarocks.sh BUILD_DIR SOURCE_DIR WORK_DIR VERSION LUA54 LUAROCKS CC
set -euo pipefail
build=$1 src=$2 work=$3 version=$4 lua=$5 luarocks=$6 cc=$7
die() { echo "luarocks-test: FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix tree=$work/tree
echo "== install the library into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name evtchnx.pc | head -n1)")
wrap=$prefix/share/evtchnx/lua/evtchnx_lua_wrap.c
[ -f "$wrap" ] || die "missing $wrap"

rockspec=evtchnx-$version-1.rockspec
[ -f "$src/bindings/lua/$rockspec" ] ||
	die "no bindings/lua/$rockspec: the rockspec's version must be the library's ($version)"
cp -r "$src/bindings" "$work/src"
rm -f "$work/src/lua/"*.so "$work/src/lua/evtchnx_lua_wrap.c"

echo "== luarocks make --tree $tree $rockspec"
(cd "$work/src/lua" &&
	env -u LD_LIBRARY_PATH HOME="$work/home" PKG_CONFIG_PATH="$pcdir" \
	"$luarocks" --lua-version 5.4 make --tree "$tree" "$rockspec")

echo "== require \"evtchnx\" from the tree"
env -i PATH=/usr/bin:/bin "$lua" -e "
package.path = '$tree/share/lua/5.4/?.lua'
package.cpath = '$tree/lib/lua/5.4/?.so'
local evtchnx = require 'evtchnx'
assert(evtchnx.version() == '$version', evtchnx.version())
local a = evtchnx.open{target = 'sim', domid = 1}
local b = evtchnx.open{target = 'sim', domid = 2}
local p = a:alloc_unbound(evtchnx.DOMID_SELF, 2)
local q = b:bind_interdomain(1, p)
assert(b:wait(1000) == q)
a:close() b:close()
print('ok: evtchnx ' .. evtchnx.version() .. ' from $tree')"

echo "== examples/lua/embed.c with the installed wrapper source"
mkdir -p "$work/embed"
# shellcheck disable=SC2046
"$cc" -o "$work/embed/host" "$src/examples/lua/embed.c" "$wrap" \
	$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs evtchnx lua5.4) -lm \
	-Wl,-rpath,"$prefix/lib"
cp "$src/examples/lua/channels.lua" "$src/examples/lua/runner.lua" "$work/embed/"
env -i PATH=/usr/bin:/bin "LUA_PATH=$prefix/share/lua/5.4/?.lua;;" \
	"$work/embed/host" "$work/embed/channels.lua"

echo "== . lua-env.sh"
out=$(bash -c '
	. "$1/bindings/lua/lua-env.sh" 2>/dev/null; echo "usage rc=$?"
	. "$1/bindings/lua/lua-env.sh" "$2"; echo "rc=$? cpath=$LUA_CPATH"
	case $- in *e*|*u*) echo "shell options changed: $-" ;; esac' _ "$src" "$build")
echo "$out"
case "$out" in
*"usage rc=2"*"rc=0 cpath=$build/lua/5.4/?.so;;"*) ;;
*) die "sourcing lua-env.sh: $out" ;;
esac
case "$out" in *"shell options changed"*) die "$out" ;; esac
echo "luarocks: OK"
