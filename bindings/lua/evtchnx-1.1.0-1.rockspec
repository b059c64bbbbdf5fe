-- SPDX-License-Identifier: LGPL-2.1-or-later
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- The Lua binding as a rock, built against an installed libevtchnx
-- (pkg-config evtchnx; set PKG_CONFIG_PATH for another prefix).  From a
-- clone, in this folder:
--   luarocks --lua-version 5.4 make --tree TREE evtchnx-1.1.0-1.rockspec
-- The version is the library's (include/evtchnx.h).
rockspec_format = "3.0"
package = "evtchnx"
version = "1.1.0-1"
source = {
   url = "git+file:///evtchnx",
}
description = {
   summary = "Xen event channels, with a real Xen backend and an emulated one",
   detailed = [[
Allocate, bind, signal and close Xen event-channel ports from Lua 5.4 or
LuaJIT, on a real Xen host or on the emulated hypervisor "sim" that runs on
any Linux machine.  Needs the C library libevtchnx (pkg-config evtchnx) and
SWIG at build time.]],
   license = "LGPL-2.1-or-later",
   labels = { "xen", "ffi", "swig" },
}
dependencies = {
   "lua >= 5.1",
}
build = {
   type = "make",
   makefile = "Makefile",
   build_variables = {
      CFLAGS = "$(CFLAGS)",
      LIBFLAG = "$(LIBFLAG)",
      LUA_INCDIR = "$(LUA_INCDIR)",
   },
   install_variables = {
      INST_LIBDIR = "$(LIBDIR)",
      INST_LUADIR = "$(LUADIR)",
   },
}
