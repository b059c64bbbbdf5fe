#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The Lua binding after `cmake --install`: installs the build into a fresh
# prefix and, for each Lua flavour, requires "evtchnx" from the installed
# folders only (the documented paths) and runs a round trip on the private
# lab and on a shared lab whose server the installed library starts.
#
#   run-install-test.sh --build-dir B --cmake CMAKE --libdir LIBDIR
#                       --datadir DATADIR [--lua54 PATH|none] [--luajit PATH|none]
set -euo pipefail

die() { echo "lua-install-test: FAIL: $*" >&2; exit 1; }

build_dir= cmake=cmake libdir=lib datadir=share lua54= luajit=
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir) build_dir=$2 ;;
	--cmake) cmake=$2 ;;
	--libdir) libdir=$2 ;;
	--datadir) datadir=$2 ;;
	--lua54) lua54=$2 ;;
	--luajit) luajit=$2 ;;
	*) die "unknown argument $1" ;;
	esac
	shift 2
done
[ -n "$build_dir" ] || die "missing --build-dir"

# Nothing may point at the build tree.
unset EVTCHNX_LABD EVTCHNX_TARGET LD_LIBRARY_PATH
unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4

prefix=$(mktemp -d "${TMPDIR:-/tmp}/evtchnx-lua-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
"$cmake" --install "$build_dir" --prefix "$prefix" >"$prefix.log" 2>&1 ||
	{ cat "$prefix.log"; rm -f "$prefix.log"; die "cmake --install failed"; }
rm -f "$prefix.log"

script='
local evtchnx = require "evtchnx"
local lab = ...
local function roundtrip(target)
	local a = evtchnx.open{ target = target, domid = 1 }
	local b = evtchnx.open{ target = target, domid = 2 }
	local p = a:alloc_unbound(evtchnx.DOMID_SELF, 2)
	local q = b:bind_interdomain(1, p)
	assert(b:wait(5000) == q)
	b:unmask(q)
	a:send(p)
	assert(b:wait(5000) == q)
	a:close()
	b:close()
end
roundtrip("sim")
roundtrip("sim:" .. lab)
local ok, err = pcall(evtchnx.open, { target = "bogus" })
assert(not ok and err.errno == evtchnx.errno.EINVAL)
print("ok " .. evtchnx.version() .. " " .. package.searchpath("evtchnx_core", package.cpath))
'

ran=0
for flavour in 5.4:"$lua54" 5.1:"$luajit"; do
	abi=${flavour%%:*}
	interp=${flavour#*:}
	[ -n "$interp" ] && [ "$interp" != none ] || continue
	mod="$prefix/$libdir/lua/$abi/evtchnx_core.so"
	lay="$prefix/$datadir/lua/$abi/evtchnx.lua"
	[ -f "$mod" ] || die "missing $mod"
	[ -f "$lay" ] || die "missing $lay"
	if readelf -d "$mod" | grep -E '\((RPATH|RUNPATH)\)' | grep -vF '[$ORIGIN/../..]'; then
		die "$mod has an RPATH other than \$ORIGIN/../.."
	fi
	out=$(LUA_PATH="$prefix/$datadir/lua/$abi/?.lua;;" \
		LUA_CPATH="$prefix/$libdir/lua/$abi/?.so;;" \
		LUA_PATH_5_4="$prefix/$datadir/lua/$abi/?.lua;;" \
		LUA_CPATH_5_4="$prefix/$libdir/lua/$abi/?.so;;" \
		"$interp" - "lua-install-$$-${abi/./}" <<<"$script" 2>&1) ||
		{ echo "$out"; die "$interp: the installed module does not work"; }
	case "$out" in
	"ok "*"$prefix/$libdir/lua/$abi/evtchnx_core.so") echo "$interp: $out" ;;
	*) echo "$out"; die "$interp: unexpected output" ;;
	esac
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || die "no Lua interpreter to test with"
echo "lua-install-test: $ran flavour(s) ok"
