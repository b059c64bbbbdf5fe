# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
#
# The two Lua flavours the binding is built for, found once and shared by
# bindings/lua, tests/lua and examples/lua (include() this file):
#
#   Lua 5.4   pkg-config lua5.4 (headers and liblua5.4 for embedding),
#             interpreter lua5.4
#   LuaJIT    pkg-config luajit (headers only: a module is never linked
#             against the interpreter), interpreter luajit; Lua 5.1 ABI
#
# Sets in the including directory:
#   EVTCHNX_LUA54_FOUND, EVTCHNX_LUAJIT_FOUND          ON/OFF
#   EVTCHNX_LUA54_INCLUDE_DIRS, EVTCHNX_LUAJIT_INCLUDE_DIRS
#   EVTCHNX_LUA54_LINK_LIBRARIES                         (embedding)
#   EVTCHNX_LUA54_EXECUTABLE, EVTCHNX_LUAJIT_EXECUTABLE   (cache)
#   EVTCHNX_BUSTED                                         (cache: the busted script)
#   EVTCHNX_LUA_FLAVOURS      "5.4;5.1" or the part of it that was found
#   EVTCHNX_LUA_BUILD_DIR     ${PROJECT_BINARY_DIR}/lua (modules in 5.4/, 5.1/)

find_package(PkgConfig QUIET)

set(EVTCHNX_LUA54_FOUND OFF)
set(EVTCHNX_LUAJIT_FOUND OFF)
if(PKG_CONFIG_FOUND)
	pkg_check_modules(EVTCHNX_PC_LUA54 QUIET lua5.4)
	if(NOT EVTCHNX_PC_LUA54_FOUND)
		pkg_check_modules(EVTCHNX_PC_LUA54 QUIET lua-5.4)
	endif()
	pkg_check_modules(EVTCHNX_PC_LUAJIT QUIET luajit)
endif()

if(EVTCHNX_PC_LUA54_FOUND)
	set(EVTCHNX_LUA54_FOUND ON)
	set(EVTCHNX_LUA54_INCLUDE_DIRS ${EVTCHNX_PC_LUA54_INCLUDE_DIRS})
	set(EVTCHNX_LUA54_LINK_LIBRARIES ${EVTCHNX_PC_LUA54_LINK_LIBRARIES})
else()
	# Without pkg-config: CMake's FindLua, if it finds 5.4.
	find_package(Lua 5.4 EXACT QUIET)
	if(LUA_FOUND)
		set(EVTCHNX_LUA54_FOUND ON)
		set(EVTCHNX_LUA54_INCLUDE_DIRS ${LUA_INCLUDE_DIR})
		set(EVTCHNX_LUA54_LINK_LIBRARIES ${LUA_LIBRARIES})
	endif()
endif()

if(EVTCHNX_PC_LUAJIT_FOUND)
	set(EVTCHNX_LUAJIT_FOUND ON)
	set(EVTCHNX_LUAJIT_INCLUDE_DIRS ${EVTCHNX_PC_LUAJIT_INCLUDE_DIRS})
endif()

find_program(EVTCHNX_LUA54_EXECUTABLE NAMES lua5.4 lua54 DOC "Lua 5.4 interpreter")
find_program(EVTCHNX_LUAJIT_EXECUTABLE NAMES luajit DOC "LuaJIT interpreter")
find_program(EVTCHNX_BUSTED NAMES busted DOC "busted test runner (a Lua script)")

set(EVTCHNX_LUA_FLAVOURS)
if(EVTCHNX_LUA54_FOUND)
	list(APPEND EVTCHNX_LUA_FLAVOURS 5.4)
endif()
if(EVTCHNX_LUAJIT_FOUND)
	list(APPEND EVTCHNX_LUA_FLAVOURS 5.1)
endif()

set(EVTCHNX_LUA_BUILD_DIR "${PROJECT_BINARY_DIR}/lua")
