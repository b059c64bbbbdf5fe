#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# Points the Lua search paths at one folder of Lua modules (evtchnx.lua and
# evtchnx_core.so, for example a build tree's lua/5.4 or lua/5.1; a build
# tree itself stands for its lua/5.4), plus any extra folders of .lua files.
# Run a command with them, or source the script to set them in your shell:
#
#   lua-env.sh MODULE_DIR [-p DIR]... -- COMMAND [ARGS...]
#   . lua-env.sh MODULE_DIR [-p DIR]...
#
#   bindings/lua/lua-env.sh build/lua/5.4 -- lua5.4 -e 'print(require "evtchnx".version())'
#   . bindings/lua/lua-env.sh build && lua5.4 -e 'print(require "evtchnx".version())'
#
# Sets LUA_PATH and LUA_CPATH, and their Lua 5.4 variants LUA_PATH_5_4 and
# LUA_CPATH_5_4 (which Lua 5.4 prefers), each ending with ";;" so that the
# interpreter's default folders (busted, installed modules) still follow.
# Sourced, it changes nothing else in the shell (no shell options, no other
# variables) and a mistake only prints the usage: it never ends the shell.

_evtchnx_lua_env() {
	_evtchnx_usage="usage: lua-env.sh MODULE_DIR [-p DIR]... [-- COMMAND [ARGS...]]"
	if [ $# -lt 1 ]; then
		echo "$_evtchnx_usage" >&2
		return 2
	fi
	_evtchnx_moddir=$1
	if [ ! -e "$_evtchnx_moddir/evtchnx_core.so" ] && [ -d "$_evtchnx_moddir/lua/5.4" ]; then
		_evtchnx_moddir=$_evtchnx_moddir/lua/5.4
	fi
	shift
	_evtchnx_lpath="$_evtchnx_moddir/?.lua;"
	_evtchnx_run=0
	while [ $# -gt 0 ]; do
		case "$1" in
		-p)
			if [ $# -lt 2 ]; then
				echo "$_evtchnx_usage" >&2
				return 2
			fi
			_evtchnx_lpath="$_evtchnx_lpath$2/?.lua;"
			shift 2
			;;
		--)
			shift
			_evtchnx_run=1
			break
			;;
		*)
			echo "$_evtchnx_usage" >&2
			return 2
			;;
		esac
	done
	if [ "$_evtchnx_run" = 1 ] && [ $# -lt 1 ]; then
		echo "$_evtchnx_usage" >&2
		return 2
	fi
	LUA_PATH="$_evtchnx_lpath;"
	LUA_CPATH="$_evtchnx_moddir/?.so;;"
	LUA_PATH_5_4=$LUA_PATH
	LUA_CPATH_5_4=$LUA_CPATH
	export LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4
	unset _evtchnx_usage _evtchnx_moddir _evtchnx_lpath
	if [ "$_evtchnx_run" = 1 ]; then
		unset _evtchnx_run
		exec "$@"
	fi
	unset _evtchnx_run
	return 0
}

# Sourced: `return` leaves the script, never the user's shell.  Run as a
# program: `return` at the top level fails (or ends the script) and `exit`
# passes the status on.
_evtchnx_lua_env "$@"
_evtchnx_rc=$?
unset -f _evtchnx_lua_env
return $_evtchnx_rc 2>/dev/null || exit $_evtchnx_rc
