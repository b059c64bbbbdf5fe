#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Run a command with the Lua search paths pointing at one folder of Lua
# modules (evtchnx.lua and evtchnx_core.so, for example a build tree's
# lua/5.4 or lua/5.1), plus any extra folders of .lua files:
#
#   lua-env.sh MODULE_DIR [-p DIR]... -- COMMAND [ARGS...]
#
#   bindings/lua/lua-env.sh build/lua/5.4 -- lua5.4 -e 'print(require "evtchnx".version())'
#
# Sets LUA_PATH and LUA_CPATH, and their Lua 5.4 variants LUA_PATH_5_4 and
# LUA_CPATH_5_4 (which Lua 5.4 prefers), each ending with ";;" so that the
# interpreter's default folders (busted, installed modules) still follow.
set -eu

usage() {
	echo "usage: lua-env.sh MODULE_DIR [-p DIR]... -- COMMAND [ARGS...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
moddir=$1
shift
lpath="$moddir/?.lua;"
while [ $# -gt 0 ]; do
	case "$1" in
	-p)
		[ $# -ge 2 ] || usage
		lpath="$lpath$2/?.lua;"
		shift 2
		;;
	--)
		shift
		break
		;;
	*)
		usage
		;;
	esac
done
[ $# -ge 1 ] || usage

LUA_PATH="$lpath;"
LUA_CPATH="$moddir/?.so;;"
LUA_PATH_5_4=$LUA_PATH
LUA_CPATH_5_4=$LUA_CPATH
export LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4
exec "$@"
