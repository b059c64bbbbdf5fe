/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * embed.c - a C program that embeds Lua 5.4 for its configuration, the way
 * Lua configuration tooling works: the host links the evtchnx binding in,
 * runs a configuration script, reads what it declared, and lets the Lua
 * runner set the channels up.
 *
 *   evtchnx-lua-embed [channels.lua]
 *
 * The evtchnx binding (the SWIG module evtchnx_core) is linked into this
 * program and registered in package.preload, so no shared module is loaded;
 * the Lua layer evtchnx.lua and runner.lua are found on package.path
 * ($LUA_PATH_5_4 / $LUA_PATH, and the configuration file's directory).
 *
 * Built against an installed evtchnx, no build tree needed: the wrapper's
 * source is installed as PREFIX/share/evtchnx/lua/evtchnx_lua_wrap.c,
 *
 *   cc -o host embed.c /usr/share/evtchnx/lua/evtchnx_lua_wrap.c \
 *      $(pkg-config --cflags --libs evtchnx lua5.4) -lm
 *   LUA_PATH='/usr/share/lua/5.4/?.lua;;' ./host channels.lua
 *
 * Exit status: 0 when every declared channel carried its events, 1 on an
 * error (printed with its evtchnx errno when it has one), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

/* The SWIG-generated wrapper linked into this program. */
int luaopen_evtchnx_core(lua_State *L);

/* Message handler: keep error objects (their errno), add a traceback to
 * strings. */
static int msgh(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TSTRING)
		luaL_traceback(L, L, lua_tostring(L, 1), 1);
	return 1;
}

/* Run f(args...) under msgh: 0 on success, else prints and returns 1. */
static int pcall_report(lua_State *L, int nargs, int nres, const char *what)
{
	int base = lua_gettop(L) - nargs;
	int errno_val;

	lua_pushcfunction(L, msgh);
	lua_insert(L, base);
	if (lua_pcall(L, nargs, nres, base) == LUA_OK) {
		lua_remove(L, base);
		return 0;
	}
	/* An evtchnx error object carries the call and the errno. */
	errno_val = 0;
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "errno");
		errno_val = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	fprintf(stderr, "evtchnx-lua-embed: %s: %s", what,
		luaL_tolstring(L, -1, NULL));
	if (errno_val)
		fprintf(stderr, " [errno %d]", errno_val);
	fputc('\n', stderr);
	lua_settop(L, base - 1);
	return 1;
}

/* package.path = DIR/?.lua;<package.path>, DIR being the config's folder */
static void prepend_path(lua_State *L, const char *file)
{
	const char *slash = strrchr(file, '/');

	lua_getglobal(L, "package");
	if (slash)
		lua_pushlstring(L, file, (size_t)(slash - file));
	else
		lua_pushliteral(L, ".");
	lua_pushliteral(L, "/?.lua;");
	lua_getfield(L, -3, "path");
	lua_concat(L, 3);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
}

/* The host reads the declared channels itself, as a tool reading its
 * configuration would (and rejects what it cannot use). */
static int list_channels(lua_State *L, int cfg)
{
	lua_Integer i, n;

	if (lua_getfield(L, cfg, "channels") != LUA_TTABLE) {
		fprintf(stderr, "evtchnx-lua-embed: the configuration has no 'channels' table\n");
		lua_pop(L, 1);
		return 1;
	}
	n = luaL_len(L, -1);
	printf("host: %lld channel(s) declared\n", (long long)n);
	for (i = 1; i <= n; i++) {
		int isnum_g, isnum_r;
		lua_Integer guest, remote;

		lua_geti(L, -1, i);
		lua_getfield(L, -1, "name");
		lua_getfield(L, -2, "guest");
		lua_getfield(L, -3, "remote");
		guest = lua_tointegerx(L, -2, &isnum_g);
		remote = lua_tointegerx(L, -1, &isnum_r);
		if (!lua_isstring(L, -3) || !isnum_g || !isnum_r) {
			fprintf(stderr, "evtchnx-lua-embed: channel %lld: needs a name and integer guest/remote\n",
				(long long)i);
			lua_pop(L, 5);
			return 1;
		}
		printf("host:   %-10s guest %lld -> remote %lld\n",
		       lua_tostring(L, -3), (long long)guest, (long long)remote);
		lua_pop(L, 4);
	}
	lua_pop(L, 1);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config = argc > 1 ? argv[1] : "channels.lua";
	lua_State *L;
	int cfg, status = 1;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [config.lua]\n", argv[0]);
		return 2;
	}
	L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "evtchnx-lua-embed: out of memory\n");
		return 1;
	}
	luaL_openlibs(L);

	/* require "evtchnx_core" finds the linked-in module. */
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_evtchnx_core);
	lua_setfield(L, -2, "evtchnx_core");
	lua_pop(L, 1);
	prepend_path(L, config);

	/* local evtchnx = require "evtchnx" (also a global for the config) */
	lua_getglobal(L, "require");
	lua_pushstring(L, "evtchnx");
	if (pcall_report(L, 1, 1, "require \"evtchnx\""))
		goto out;
	lua_getfield(L, -1, "version");
	if (pcall_report(L, 0, 1, "evtchnx.version()"))
		goto out;
	printf("host: evtchnx %s, %s\n", lua_tostring(L, -1), LUA_RELEASE);
	lua_pop(L, 1);
	lua_setglobal(L, "evtchnx");

	/* Run the configuration script; it returns its table. */
	if (luaL_loadfile(L, config) != LUA_OK) {
		fprintf(stderr, "evtchnx-lua-embed: %s\n", lua_tostring(L, -1));
		goto out;
	}
	if (pcall_report(L, 0, 1, config))
		goto out;
	if (!lua_istable(L, -1)) {
		fprintf(stderr, "evtchnx-lua-embed: %s must return a table\n", config);
		goto out;
	}
	cfg = lua_gettop(L);
	if (list_channels(L, cfg))
		goto out;

	/* require("runner").run(config) */
	lua_getglobal(L, "require");
	lua_pushstring(L, "runner");
	if (pcall_report(L, 1, 1, "require \"runner\""))
		goto out;
	lua_getfield(L, -1, "run");
	lua_pushvalue(L, cfg);
	if (pcall_report(L, 1, 1, "runner.run"))
		goto out;
	printf("host: all channels done\n");
	status = 0;
out:
	lua_close(L);
	return status;
}
