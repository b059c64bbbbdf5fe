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
 *   - the batch calls take and return arrays (tables) and run to the end
 *     (evtchnx_bind_run_batch() in ../evtchnx.i):
 *       evtchnx_alloc_unbound_batch(h, dom, remote_dom, n) -> { port, ... }
 *       evtchnx_bind_interdomain_batch(h, remote_dom, { rport, ... })
 *                                                     -> { port, ... }
 *       evtchnx_unbind_batch(h, { port, ... }) -> count
 *       evtchnx_unmask_batch(h, { port, ... }) -> count
 *       evtchnx_status_batch(h, dom, { port, ... }) -> { status, ... }
 *     When an element fails, the error object also has done (how many
 *     elements were done), index (the failing element, 1-based), ports
 *     (the ports allocated, bound, unbound, unmasked or described before
 *     it: none is lost) and, for status_batch, statuses;
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
#include <stdio.h>
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

/* Push the table of one status: { state=, state_name=, vcpu=, ... }. */
static void evx_push_status(lua_State *L, const struct evtchnx_status *st)
{
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, (lua_Integer)st->state);
	lua_setfield(L, -2, "state");
	lua_pushinteger(L, (lua_Integer)st->vcpu);
	lua_setfield(L, -2, "vcpu");
	lua_pushinteger(L, (lua_Integer)st->remote_domid);
	lua_setfield(L, -2, "remote_domid");
	lua_pushinteger(L, (lua_Integer)st->remote_port);
	lua_setfield(L, -2, "remote_port");
	lua_pushinteger(L, (lua_Integer)st->virq);
	lua_setfield(L, -2, "virq");
	if (st->state < sizeof(evx_state_names) / sizeof(evx_state_names[0]))
		lua_pushstring(L, evx_state_names[st->state]);
	else
		lua_pushstring(L, "unknown");
	lua_setfield(L, -2, "state_name");
}

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
/* busy_poll_ns: every integer a double holds exactly (the library refuses
 * what is above its limit). */
EVX_INTEGER_IN(uint64_t, 0, 9007199254740992LL, "integer 0..2^53")

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

%typemap(out) uint32_t, unsigned int, size_t, uint64_t
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
	evx_push_status(L, $1);
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

/* ---- batches (after the shared file: they use its
 * evtchnx_bind_run_batch()) ---------------------------------------------- */

%{
/* Check the argument count as SWIG_check_num_args() does; 0 with the
 * message pushed when it is wrong. */
static int evx_nargs(lua_State *L, const char *call, int n)
{
	if (lua_gettop(L) == n)
		return 1;
	lua_pushfstring(L, "%s: %d arguments expected, got %d", call, n,
			lua_gettop(L));
	return 0;
}

/* An integer argument in [lo, hi]; 0 with the message pushed otherwise. */
static int evx_int_arg(lua_State *L, int idx, const char *call,
		       const char *argname, long long lo, long long hi,
		       const char *want, long long *out)
{
	if (evx_get_integer(L, idx, lo, hi, out))
		return 1;
	evx_push_argerror(L, call, idx, argname, idx, want);
	return 0;
}

/* The ports of the array at @idx in a new userdata buffer (pushed on the
 * stack), *@n of them; NULL with the message pushed otherwise. */
static uint32_t *evx_ports_in(lua_State *L, int idx, const char *call,
			      const char *argname, unsigned int *n)
{
	size_t len, i;
	uint32_t *a;

	if (!lua_istable(L, idx)) {
		evx_push_argerror(L, call, idx, argname, idx,
				  "array of ports");
		return NULL;
	}
#if LUA_VERSION_NUM >= 502
	len = lua_rawlen(L, idx);
#else
	len = lua_objlen(L, idx);
#endif
	if (len > UINT_MAX) {
		lua_pushfstring(L, "%s: bad argument #%d '%s' (too many ports)",
				call, idx, argname);
		return NULL;
	}
	a = (uint32_t *)lua_newuserdata(L, len ? len * sizeof(uint32_t) : 1);
	for (i = 0; i < len; i++) {
		long long v;

		lua_rawgeti(L, idx, (int)i + 1);
		if (!evx_get_integer(L, -1, 0, 0xFFFFFFFFLL, &v)) {
			char want[64];

			snprintf(want, sizeof(want),
				 "element %u: integer 0..4294967295",
				 (unsigned int)i + 1);
			evx_push_argerror(L, call, idx, argname, lua_gettop(L),
					  want);
			return NULL;
		}
		lua_pop(L, 1);
		a[i] = (uint32_t)v;
	}
	*n = (unsigned int)len;
	return a;
}

/* Push an array of the first @n of @ports. */
static void evx_push_ports(lua_State *L, const uint32_t *ports, unsigned int n)
{
	lua_createtable(L, (int)n, 0);
	for (unsigned int i = 0; i < n; i++) {
		lua_pushinteger(L, (lua_Integer)ports[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
}

/*
 * Push the error of a batch whose element @done failed with @err: the
 * error object of the call, with done, index and, when @port is not NULL,
 * port (the failing element's port), its message naming them.  The
 * caller adds ports (and statuses).
 */
static void evx_push_batch_error(lua_State *L, const char *call, int err,
				 unsigned int done, unsigned int n,
				 const uint32_t *port)
{
	int e = err < 0 ? -err : err;

	evx_push_error(L, call, err);
	lua_pushinteger(L, (lua_Integer)done);
	lua_setfield(L, -2, "done");
	lua_pushinteger(L, (lua_Integer)done + 1);
	lua_setfield(L, -2, "index");
	if (port) {
		lua_pushinteger(L, (lua_Integer)*port);
		lua_setfield(L, -2, "port");
		lua_pushfstring(L, "%s: element %d of %d (port %d): %s (errno %d)",
				call, (int)done + 1, (int)n, (int)*port,
				evtchnx_strerror(-e), e);
	} else {
		lua_pushfstring(L, "%s: element %d of %d: %s (errno %d)", call,
				(int)done + 1, (int)n, evtchnx_strerror(-e), e);
	}
	lua_setfield(L, -2, "message");
}

/* evtchnx_alloc_unbound_batch(h, dom, remote_dom, n) -> { port, ... } */
static int evx_alloc_unbound_batch(lua_State *L)
{
	static const char call[] = "evtchnx_alloc_unbound_batch";
	struct evtchnx_bind_batch b = { .op = EVTCHNX_BIND_ALLOC_UNBOUND };
	struct evtchnx_handle *h;
	long long dom, rdom, n;
	unsigned int done;
	uint32_t *out;
	int err;

	if (!evx_nargs(L, call, 4))
		return lua_error(L);
	h = evx_check_handle(L, 1, call, 1, "h");
	if (!h)
		return lua_error(L);
	if (!evx_int_arg(L, 2, call, "dom", 0, 0xFFFFFFFFLL,
			 "integer 0..4294967295", &dom) ||
	    !evx_int_arg(L, 3, call, "remote_dom", 0, 0xFFFFFFFFLL,
			 "integer 0..4294967295", &rdom) ||
	    /* No domain has more ports than the FIFO ABI's limit. */
	    !evx_int_arg(L, 4, call, "n", 0, EVTCHNX_SIM_MAX_PORTS,
			 "integer 0..131072", &n))
		return lua_error(L);
	b.dom = (uint32_t)dom;
	b.remote_dom = (uint32_t)rdom;
	out = (uint32_t *)lua_newuserdata(L, n ? (size_t)n * sizeof(uint32_t) : 1);
	b.out = out;
	done = evtchnx_bind_run_batch(h, &b, (unsigned int)n, &err);
	if (err) {
		evx_push_batch_error(L, call, err, done, (unsigned int)n, NULL);
		evx_push_ports(L, out, done);
		lua_setfield(L, -2, "ports");
		return lua_error(L);
	}
	evx_push_ports(L, out, done);
	return 1;
}

/* evtchnx_bind_interdomain_batch(h, remote_dom, { rport, ... })
 *     -> { port, ... } */
static int evx_bind_interdomain_batch(lua_State *L)
{
	static const char call[] = "evtchnx_bind_interdomain_batch";
	struct evtchnx_bind_batch b = { .op = EVTCHNX_BIND_BIND_INTERDOMAIN };
	struct evtchnx_handle *h;
	unsigned int n, done;
	long long rdom;
	uint32_t *out;
	int err;

	if (!evx_nargs(L, call, 3))
		return lua_error(L);
	h = evx_check_handle(L, 1, call, 1, "h");
	if (!h)
		return lua_error(L);
	if (!evx_int_arg(L, 2, call, "remote_dom", 0, 0xFFFFFFFFLL,
			 "integer 0..4294967295", &rdom))
		return lua_error(L);
	b.remote_dom = (uint32_t)rdom;
	b.in = evx_ports_in(L, 3, call, "remote_ports", &n);
	if (!b.in)
		return lua_error(L);
	out = (uint32_t *)lua_newuserdata(L, n ? n * sizeof(uint32_t) : 1);
	b.out = out;
	done = evtchnx_bind_run_batch(h, &b, n, &err);
	if (err) {
		evx_push_batch_error(L, call, err, done, n, &b.in[done]);
		evx_push_ports(L, out, done);
		lua_setfield(L, -2, "ports");
		return lua_error(L);
	}
	evx_push_ports(L, out, done);
	return 1;
}

/* unbind_batch and unmask_batch: (h, { port, ... }) -> count */
static int evx_ports_batch(lua_State *L, const char *call,
			   enum evtchnx_bind_batch_op op)
{
	struct evtchnx_bind_batch b = { .op = op };
	struct evtchnx_handle *h;
	unsigned int n, done;
	int err;

	if (!evx_nargs(L, call, 2))
		return lua_error(L);
	h = evx_check_handle(L, 1, call, 1, "h");
	if (!h)
		return lua_error(L);
	b.in = evx_ports_in(L, 2, call, "ports", &n);
	if (!b.in)
		return lua_error(L);
	done = evtchnx_bind_run_batch(h, &b, n, &err);
	if (err) {
		evx_push_batch_error(L, call, err, done, n, &b.in[done]);
		evx_push_ports(L, b.in, done);
		lua_setfield(L, -2, "ports");
		return lua_error(L);
	}
	lua_pushinteger(L, (lua_Integer)done);
	return 1;
}

static int evx_unbind_batch(lua_State *L)
{
	return evx_ports_batch(L, "evtchnx_unbind_batch", EVTCHNX_BIND_UNBIND);
}

static int evx_unmask_batch(lua_State *L)
{
	return evx_ports_batch(L, "evtchnx_unmask_batch", EVTCHNX_BIND_UNMASK);
}

/* evtchnx_status_batch(h, dom, { port, ... }) -> { status, ... } */
static int evx_status_batch(lua_State *L)
{
	static const char call[] = "evtchnx_status_batch";
	struct evtchnx_bind_batch b = { .op = EVTCHNX_BIND_STATUS };
	struct evtchnx_handle *h;
	unsigned int n, done, i;
	long long dom;
	int err;

	if (!evx_nargs(L, call, 3))
		return lua_error(L);
	h = evx_check_handle(L, 1, call, 1, "h");
	if (!h)
		return lua_error(L);
	if (!evx_int_arg(L, 2, call, "dom", 0, 0xFFFFFFFFLL,
			 "integer 0..4294967295", &dom))
		return lua_error(L);
	b.dom = (uint32_t)dom;
	b.in = evx_ports_in(L, 3, call, "ports", &n);
	if (!b.in)
		return lua_error(L);
	b.st = (struct evtchnx_status *)lua_newuserdata(
		L, (n ? n : 1) * sizeof(struct evtchnx_status));
	memset(b.st, 0, (n ? n : 1) * sizeof(struct evtchnx_status));
	b.st[0].sz = sizeof(struct evtchnx_status);
	done = evtchnx_bind_run_batch(h, &b, n, &err);
	if (err)
		evx_push_batch_error(L, call, err, done, n, &b.in[done]);
	lua_createtable(L, (int)done, 0);
	for (i = 0; i < done; i++) {
		evx_push_status(L, &b.st[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	if (err) {
		lua_setfield(L, -2, "statuses");
		evx_push_ports(L, b.in, done);
		lua_setfield(L, -2, "ports");
		return lua_error(L);
	}
	return 1;
}
%}

%native(evtchnx_alloc_unbound_batch) int evx_alloc_unbound_batch(lua_State *L);
%native(evtchnx_bind_interdomain_batch) int evx_bind_interdomain_batch(lua_State *L);
%native(evtchnx_unbind_batch) int evx_unbind_batch(lua_State *L);
%native(evtchnx_unmask_batch) int evx_unmask_batch(lua_State *L);
%native(evtchnx_status_batch) int evx_status_batch(lua_State *L);
