/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SPDX-FileCopyrightText: 2026 The evtchnx authors */
/*
 * lua.i - the Lua front of the SWIG interface.
 *
 * Builds the C module "evtchnx_core" (luaopen_evtchnx_core).  Scripts do
 * not use it directly: the Lua module "evtchnx" (evtchnx.lua) wraps it into
 * handle objects.  The same generated wrapper is compiled twice, against
 * Lua 5.4 and against LuaJIT (the Lua 5.1 ABI).
 *
 * What the typemaps below guarantee:
 *   - integer arguments (ports, domids, virqs, timeouts) must be Lua
 *     numbers with an integral value in the C type's range; strings, nil,
 *     booleans, fractions, NaN, negative or too large values raise a Lua
 *     error naming the function and the argument, before C is called;
 *   - integer results are pushed with lua_pushinteger (SWIG 4.1 would push
 *     floats, swig/swig#1918);
 *   - a negative errno result raises a Lua error whose value is an error
 *     object {call=, errno=, name=, message=} with a __tostring metamethod
 *     (message: "evtchnx_send: Transport endpoint is not connected
 *     (errno 107)"); SWIG_exception() would keep only a string;
 *   - evtchnx_pending() and evtchnx_wait() return nil for -EAGAIN and
 *     -ETIMEDOUT, evtchnx_is_pending() a boolean, evtchnx_status() a table,
 *     evtchnx_pending_batch() an array of ports; the calls that return 0 on
 *     success (send, unbind, unmask, ...) return nothing;
 *   - a handle is a full userdata (metatable "evtchnx.handle") that owns
 *     its struct evtchnx_handle *: its __gc closes it, evtchnx_close()
 *     closes it once (later closes do nothing), and every other call on a
 *     closed handle raises "handle is closed" (errno EBADF) without
 *     reaching C.  Nothing but such a userdata is accepted as a handle.
 */
%module evtchnx_core

%{
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "evtchnx.h"

/* SWIG's message for a wrong argument count, in this module's format:
 * "evtchnx_send: 2 arguments expected, got 1" (self counts). */
#undef SWIG_check_num_args
#define SWIG_check_num_args(func_name, a, b)                                    \
	if (lua_gettop(L) < (a) || lua_gettop(L) > (b)) {                      \
		if ((a) == (b))                                                \
			lua_pushfstring(L, "%s: %d arguments expected, got %d", \
					func_name, (a), lua_gettop(L));        \
		else                                                           \
			lua_pushfstring(L,                                     \
					"%s: %d to %d arguments expected, got %d", \
					func_name, (a), (b), lua_gettop(L));   \
		goto fail;                                                     \
	}

/* Metatable (in the registry) of the error objects raised by this module. */
#define EVX_ERROR_MT "evtchnx.error"
/* Upper bound of the ports taken by one evtchnx_pending_batch() call. */
#define EVX_BATCH_MAX 65536u

/* errno values the library documents, with their names. */
static const struct {
	const char *name;
	int value;
} evx_errnos[] = {
	{ "EPERM", EPERM },
	{ "ENOENT", ENOENT },
	{ "ESRCH", ESRCH },
	{ "EINTR", EINTR },
	{ "EIO", EIO },
	{ "EBADF", EBADF },
	{ "EAGAIN", EAGAIN },
	{ "ENOMEM", ENOMEM },
	{ "EACCES", EACCES },
	{ "EBUSY", EBUSY },
	{ "EEXIST", EEXIST },
	{ "ENODEV", ENODEV },
	{ "EINVAL", EINVAL },
	{ "ENFILE", ENFILE },
	{ "EMFILE", EMFILE },
	{ "EFBIG", EFBIG },
	{ "ENOSPC", ENOSPC },
	{ "ENOSYS", ENOSYS },
	{ "EOPNOTSUPP", EOPNOTSUPP },
	{ "ECONNREFUSED", ECONNREFUSED },
	{ "ENOTCONN", ENOTCONN },
	{ "ETIMEDOUT", ETIMEDOUT },
};

static const char *evx_errno_name(int e)
{
	size_t i;

	for (i = 0; i < sizeof(evx_errnos) / sizeof(evx_errnos[0]); i++) {
		if (evx_errnos[i].value == e)
			return evx_errnos[i].name;
	}
	return NULL;
}

/*
 * Push the error object for a failed call: @err is a negative (or
 * positive) errno value.
 */
static void evx_push_error(lua_State *L, const char *call, int err)
{
	int e = err < 0 ? -err : err;
	const char *name = evx_errno_name(e);

	lua_createtable(L, 0, 4);
	lua_pushstring(L, call);
	lua_setfield(L, -2, "call");
	lua_pushinteger(L, e);
	lua_setfield(L, -2, "errno");
	if (name) {
		lua_pushstring(L, name);
		lua_setfield(L, -2, "name");
	}
	lua_pushfstring(L, "%s: %s (errno %d)", call, evtchnx_strerror(-e), e);
	lua_setfield(L, -2, "message");
	luaL_getmetatable(L, EVX_ERROR_MT);
	lua_setmetatable(L, -2);
}

/*
 * Is the value at @idx a number with an integral value in [lo, hi]?
 * Strings are refused even when they look like numbers.
 */
static int evx_get_integer(lua_State *L, int idx, long long lo, long long hi,
			   long long *out)
{
	lua_Number n;

	if (lua_type(L, idx) != LUA_TNUMBER)
		return 0;
#if LUA_VERSION_NUM >= 503
	if (lua_isinteger(L, idx)) {
		lua_Integer v = lua_tointeger(L, idx);

		if (v < lo || v > hi)
			return 0;
		*out = (long long)v;
		return 1;
	}
#endif
	n = lua_tonumber(L, idx);
	/* NaN fails both comparisons. */
	if (!(n >= (lua_Number)lo && n <= (lua_Number)hi))
		return 0;
	if (n != floor(n))
		return 0;
	*out = (long long)n;
	return 1;
}

/* Push "FUNC: bad argument #N 'NAME' (WANT expected, got WHAT)". */
static void evx_push_argerror(lua_State *L, const char *call, int argnum,
			      const char *argname, int idx, const char *want)
{
	const char *got;

	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_pushvalue(L, idx);
		got = lua_tostring(L, -1); /* converts the copy only */
	} else {
		got = luaL_typename(L, idx);
	}
	lua_pushfstring(L, "%s: bad argument #%d '%s' (%s expected, got %s)",
			call, argnum, argname, want, got);
	if (lua_type(L, idx) == LUA_TNUMBER)
		lua_remove(L, -2);
}

/* ---- handles: a userdata box that owns the C handle ---- */

#define EVX_HANDLE_MT "evtchnx.handle"

struct evx_box {
	struct evtchnx_handle *h; /* NULL once closed */
};

/* The handle metatable is also kept in the registry under the address of
 * this variable: a light userdata key is found without hashing a string,
 * and every call checks its handle. */
static const char evx_handle_mt_key = 0;

/* The box at @idx, or NULL if the value is not a handle. */
static struct evx_box *evx_to_box(lua_State *L, int idx)
{
	struct evx_box *box;
	int same;

	if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
		return NULL;
	lua_pushlightuserdata(L, (void *)&evx_handle_mt_key);
	lua_rawget(L, LUA_REGISTRYINDEX);
	same = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	box = same ? (struct evx_box *)lua_touserdata(L, idx) : NULL;
	return box;
}

/* The open C handle at @idx; NULL with an error pushed otherwise. */
static struct evtchnx_handle *evx_check_handle(lua_State *L, int idx,
					       const char *call, int argnum,
					       const char *argname)
{
	struct evx_box *box = evx_to_box(L, idx);

	if (!box) {
		evx_push_argerror(L, call, argnum, argname, idx,
				  "evtchnx handle");
		return NULL;
	}
	if (!box->h) {
		evx_push_error(L, call, EBADF);
		lua_pushfstring(L, "%s: handle is closed", call);
		lua_setfield(L, -2, "message");
		return NULL;
	}
	return box->h;
}

/* __gc and evtchnx_core.evtchnx_close(h): close once, then a no-op. */
static int evx_close(lua_State *L)
{
	struct evx_box *box = evx_to_box(L, 1);
	struct evtchnx_handle *h;

	if (!box) {
		evx_push_argerror(L, "evtchnx_close", 1, "h", 1,
				  "evtchnx handle");
		return lua_error(L);
	}
	h = box->h;
	box->h = NULL;
	evtchnx_close(h);
	return 0;
}

/* evtchnx_core.is_closed(h) -> boolean */
static int evx_is_closed(lua_State *L)
{
	struct evx_box *box = evx_to_box(L, 1);

	if (!box) {
		evx_push_argerror(L, "is_closed", 1, "h", 1, "evtchnx handle");
		return lua_error(L);
	}
	lua_pushboolean(L, box->h == NULL);
	return 1;
}

/* evtchnx_core.handle_metatable() -> the metatable of handles, for the
 * Lua layer to add its methods (__index) to. */
static int evx_handle_metatable(lua_State *L)
{
	luaL_getmetatable(L, EVX_HANDLE_MT);
	return 1;
}

static const char *const evx_state_names[] = {
	"closed", "unbound", "interdomain", "pirq", "virq", "ipi",
};

/*
 * Convert the value at @idx into a pointer to an object of SWIG type @ty:
 * only a SWIG userdata of exactly that class is accepted (nil gives NULL
 * when @nil_ok).  Returns 1 on success, 0 otherwise.
 */
static int evx_convert_object(lua_State *L, int idx, void **ptr,
			      swig_type_info *ty, int nil_ok)
{
	swig_lua_userdata *usr;
	int same;

	if (lua_isnil(L, idx) && nil_ok) {
		*ptr = NULL;
		return 1;
	}
	if (lua_type(L, idx) != LUA_TUSERDATA || !ty || !ty->clientdata)
		return 0;
	if (!lua_getmetatable(L, idx))
		return 0;
	SWIG_Lua_get_class_metatable(L, ((swig_lua_class *)ty->clientdata)->fqname);
	same = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	if (!same)
		return 0;
	usr = (swig_lua_userdata *)lua_touserdata(L, idx);
	if (!usr->ptr)
		return 0;
	*ptr = usr->ptr;
	return 1;
}

/* The metatable of error objects, also used by evtchnx.lua. */
static int evx_error_tostring(lua_State *L)
{
	lua_getfield(L, 1, "message");
	if (!lua_isstring(L, -1)) {
		lua_pop(L, 1);
		lua_pushstring(L, "evtchnx error");
	}
	return 1;
}

static int evx_error_metatable(lua_State *L)
{
	luaL_getmetatable(L, EVX_ERROR_MT);
	return 1;
}

/* evtchnx_core.errno_names() -> { EINVAL = 22, ... } */
static int evx_errno_table(lua_State *L)
{
	size_t i, n = sizeof(evx_errnos) / sizeof(evx_errnos[0]);

	lua_createtable(L, 0, (int)n);
	for (i = 0; i < n; i++) {
		lua_pushinteger(L, evx_errnos[i].value);
		lua_setfield(L, -2, evx_errnos[i].name);
	}
	return 1;
}

/* evtchnx_core.monotonic() -> seconds (a float) on CLOCK_MONOTONIC: plain
 * Lua has no clock for timeouts and measurements. */
static int evx_monotonic(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
	return 1;
}

/* evtchnx_core.make_error(call, errno) -> error object (not raised) */
static int evx_make_error(lua_State *L)
{
	const char *call = luaL_checkstring(L, 1);
	int e = (int)luaL_checkinteger(L, 2);

	evx_push_error(L, call, e);
	return 1;
}
%}

%native(error_metatable) int evx_error_metatable(lua_State *L);
%native(errno_names) int evx_errno_table(lua_State *L);
%native(make_error) int evx_make_error(lua_State *L);
%native(monotonic) int evx_monotonic(lua_State *L);
%native(handle_metatable) int evx_handle_metatable(lua_State *L);
%native(is_closed) int evx_is_closed(lua_State *L);
%native(evtchnx_close) int evx_close(lua_State *L);
%ignore evtchnx_close;

%init %{
	if (luaL_newmetatable(L, EVX_ERROR_MT)) {
		lua_pushcfunction(L, evx_error_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushstring(L, "evtchnx.error");
		lua_setfield(L, -2, "__name");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, EVX_HANDLE_MT)) {
		lua_pushcfunction(L, evx_close);
		lua_setfield(L, -2, "__gc");
		lua_pushstring(L, "evtchnx.handle");
		lua_setfield(L, -2, "__name");
		/* getmetatable(h) from scripts sees this, not the table */
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_pushlightuserdata(L, (void *)&evx_handle_mt_key);
	lua_pushvalue(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);
%}

/* ---- integer arguments ------------------------------------------------ */

%define EVX_INTEGER_IN(TYPE, LO, HI, WANT)
%typemap(in) TYPE {
	long long v_;

	if (!evx_get_integer(L, $input, LO, HI, &v_)) {
		evx_push_argerror(L, "$symname", $argnum, "$1_name", $input,
				  WANT);
		SWIG_fail;
	}
	$1 = (TYPE)v_;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_INTEGER) TYPE {
	long long v_;

	$1 = evx_get_integer(L, $input, LO, HI, &v_);
}
%enddef

EVX_INTEGER_IN(uint32_t, 0, 0xFFFFFFFFLL, "integer 0..4294967295")
EVX_INTEGER_IN(unsigned int, 0, (long long)UINT_MAX, "non-negative integer")
EVX_INTEGER_IN(int, (long long)INT_MIN, (long long)INT_MAX, "32-bit integer")

/* evtchnx_wait(h [, timeout_ms]): absent or nil waits forever (-1). */
%typemap(default) int timeout_ms {
	$1 = -1;
}
%typemap(in) int timeout_ms {
	long long v_;

	if (lua_isnil(L, $input)) {
		$1 = -1;
	} else if (evx_get_integer(L, $input, (long long)INT_MIN,
				   (long long)INT_MAX, &v_)) {
		$1 = (int)v_;
	} else {
		evx_push_argerror(L, "$symname", $argnum, "$1_name", $input,
				  "32-bit integer or nil");
		SWIG_fail;
	}
}

/* ---- integer results -------------------------------------------------- */

%typemap(out) uint32_t, unsigned int, size_t
%{ lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++; %}

/* Every int result of the API: >= 0, or a negative errno. */
%typemap(out) int {
	if ($1 < 0) {
		evx_push_error(L, "$symname", $1);
		SWIG_fail;
	}
	lua_pushinteger(L, (lua_Integer)$1);
	SWIG_arg++;
}

/* evtchnx_domain_grant(h, domid) -> 0, the token (a string). */
%typemap(in, numinputs=0) (char *token, size_t size)
	(char evtchnx_tok[EVTCHNX_TOKEN_SIZE]) {
	evtchnx_tok[0] = '\0';
	$1 = evtchnx_tok;
	$2 = sizeof(evtchnx_tok);
}

%typemap(argout) (char *token, size_t size) {
	lua_pushstring(L, $1);
	SWIG_arg++;
}

/* Nothing pending is not an error: nil. */
%typemap(out) int evtchnx_pending {
	if ($1 == -EAGAIN) {
		lua_pushnil(L);
	} else if ($1 < 0) {
		evx_push_error(L, "$symname", $1);
		SWIG_fail;
	} else {
		lua_pushinteger(L, (lua_Integer)$1);
	}
	SWIG_arg++;
}

/* A timeout is not an error: nil. */
%typemap(out) int evtchnx_wait {
	if ($1 == -ETIMEDOUT) {
		lua_pushnil(L);
	} else if ($1 < 0) {
		evx_push_error(L, "$symname", $1);
		SWIG_fail;
	} else {
		lua_pushinteger(L, (lua_Integer)$1);
	}
	SWIG_arg++;
}

%typemap(out) int evtchnx_is_pending {
	if ($1 < 0) {
		evx_push_error(L, "$symname", $1);
		SWIG_fail;
	}
	lua_pushboolean(L, $1 != 0);
	SWIG_arg++;
}

/* 0 on success: return nothing. */
%typemap(out) int evtchnx_adopt, int evtchnx_send, int evtchnx_unbind,
	      int evtchnx_reset, int evtchnx_restrict, int evtchnx_unmask,
	      int evtchnx_domain_create, int evtchnx_domain_destroy,
	      int evtchnx_raise_virq {
	if ($1 < 0) {
		evx_push_error(L, "$symname", $1);
		SWIG_fail;
	}
}

/* These return their output through the argout typemaps below. */
%typemap(out) int evtchnx_status, int evtchnx_pending_batch {
	if ($1 < 0) {
		evx_push_error(L, "$symname", $1);
		SWIG_fail;
	}
}

/* ---- other pointers ---------------------------------------------------- */

/* SWIG's own pointer conversion trusts any userdata to be one of its own
 * (and takes a light userdata as a raw address): a script passing a file
 * handle or a light userdata would make it read arbitrary memory.  Accept
 * only a userdata whose metatable is the class metatable of the expected
 * type, or nil as NULL where a pointer argument (not self) may be NULL. */
%typemap(in) SWIGTYPE * {
	if (!evx_convert_object(L, $input, (void **)&$1, $descriptor, 1)) {
		evx_push_argerror(L, "$symname", $argnum, "$1_name", $input,
				  "$*1_ltype object or nil");
		SWIG_fail;
	}
}
%typemap(in) SWIGTYPE *self {
	if (!evx_convert_object(L, $input, (void **)&$1, $descriptor, 0)) {
		evx_push_argerror(L, "$symname", $argnum, "self", $input,
				  "$*1_ltype object");
		SWIG_fail;
	}
}

/* ---- handles ---------------------------------------------------------- */

%typemap(in) struct evtchnx_handle * {
	$1 = evx_check_handle(L, $input, "$symname", $argnum, "$1_name");
	if (!$1)
		SWIG_fail;
}

%typemap(out) struct evtchnx_handle *evtchnx_open {
	struct evx_box *box_;

	if (!$1) {
		evx_push_error(L, "$symname", errno ? errno : EIO);
		SWIG_fail;
	}
	box_ = (struct evx_box *)lua_newuserdata(L, sizeof(*box_));
	box_->h = $1;
	luaL_getmetatable(L, EVX_HANDLE_MT);
	lua_setmetatable(L, -2);
	SWIG_arg++;
}

%typemap(out) const char *evtchnx_backend {
	if (!$1) {
		evx_push_error(L, "$symname", errno ? errno : EINVAL);
		SWIG_fail;
	}
	lua_pushstring(L, $1);
	SWIG_arg++;
}

/* ---- output buffers --------------------------------------------------- */

/* evtchnx_status(h, dom, port) -> { state=, vcpu=, remote_domid=, ... } */
%typemap(in, numinputs=0) struct evtchnx_status *st (struct evtchnx_status temp) {
	memset(&temp, 0, sizeof(temp));
	temp.sz = sizeof(temp);
	$1 = &temp;
}
%typemap(argout) struct evtchnx_status *st {
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, (lua_Integer)$1->state);
	lua_setfield(L, -2, "state");
	lua_pushinteger(L, (lua_Integer)$1->vcpu);
	lua_setfield(L, -2, "vcpu");
	lua_pushinteger(L, (lua_Integer)$1->remote_domid);
	lua_setfield(L, -2, "remote_domid");
	lua_pushinteger(L, (lua_Integer)$1->remote_port);
	lua_setfield(L, -2, "remote_port");
	lua_pushinteger(L, (lua_Integer)$1->virq);
	lua_setfield(L, -2, "virq");
	if ($1->state < sizeof(evx_state_names) / sizeof(evx_state_names[0]))
		lua_pushstring(L, evx_state_names[$1->state]);
	else
		lua_pushstring(L, "unknown");
	lua_setfield(L, -2, "state_name");
	SWIG_arg++;
}

/* evtchnx_pending_batch(h, max) -> { port, ... } (at most EVX_BATCH_MAX);
 * the buffer is a Lua userdata, so an error anywhere cannot leak it. */
%typemap(in) (uint32_t *ports, unsigned int max) {
	long long v_;

	if (!evx_get_integer(L, $input, 0, 0xFFFFFFFFLL, &v_)) {
		evx_push_argerror(L, "$symname", $argnum, "max", $input,
				  "integer 0..4294967295");
		SWIG_fail;
	}
	$2 = v_ > EVX_BATCH_MAX ? EVX_BATCH_MAX : (unsigned int)v_;
	$1 = $2 ? (uint32_t *)lua_newuserdata(L, $2 * sizeof(uint32_t)) : NULL;
}
%typemap(argout) (uint32_t *ports, unsigned int max) {
	int i_;

	lua_createtable(L, (int)result, 0);
	for (i_ = 0; i_ < (int)result; i_++) {
		lua_pushinteger(L, (lua_Integer)$1[i_]);
		lua_rawseti(L, -2, i_ + 1);
	}
	SWIG_arg++;
}

%include "../evtchnx.i"
