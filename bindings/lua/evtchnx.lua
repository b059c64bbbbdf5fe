-- SPDX-License-Identifier: LGPL-2.1-or-later
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- evtchnx.lua - Xen event channels for Lua 5.4 and LuaJIT.
--
-- A thin layer over the SWIG module "evtchnx_core": handle objects with
-- methods, constants, and one error convention.
--
--   local evtchnx = require "evtchnx"
--   local a = evtchnx.open{ target = "sim", domid = 1 }
--   local b = evtchnx.open{ target = "sim", domid = 2 }
--   local p = a:alloc_unbound(evtchnx.DOMID_SELF, 2)
--   local q = b:bind_interdomain(1, p)
--   a:send(p)
--   local port = b:wait(1000)      -- q, or nil on timeout
--   b:unmask(port)
--   a:close(); b:close()           -- or let the garbage collector do it
--
-- Errors: a failing call raises an error object (see evtchnx.is_error):
--   err.call     "evtchnx_send"
--   err.errno    107
--   err.name     "ENOTCONN"
--   err.message  "evtchnx_send: Transport endpoint is not connected (errno 107)"
-- tostring(err) is err.message.  Wrong argument types or ranges raise a
-- plain string error ("evtchnx_send: bad argument #2 'port' (...)").

local core = require "evtchnx_core"

local type, error, getmetatable, tostring, pcall =
	type, error, getmetatable, tostring, pcall
local pairs, select = pairs, select

local M = {}

-- ---- constants -----------------------------------------------------------

M.DOMID_SELF = core.EVTCHNX_DOMID_SELF
M.DOMID_FIRST_RESERVED = core.EVTCHNX_DOMID_FIRST_RESERVED
M.SIM_MAX_PORTS = core.EVTCHNX_SIM_MAX_PORTS
M.SIM_MAX_DOMAINS = core.EVTCHNX_SIM_MAX_DOMAINS
M.NR_VIRQS = core.EVTCHNX_NR_VIRQS
M.OPEN_NO_SPAWN = core.EVTCHNX_OPEN_NO_SPAWN
M.OPEN_SINGLE_THREAD = core.EVTCHNX_OPEN_SINGLE_THREAD
M.OPEN_STRICT = core.EVTCHNX_OPEN_STRICT

M.STATE_CLOSED = core.EVTCHNX_STATE_CLOSED
M.STATE_UNBOUND = core.EVTCHNX_STATE_UNBOUND
M.STATE_INTERDOMAIN = core.EVTCHNX_STATE_INTERDOMAIN
M.STATE_PIRQ = core.EVTCHNX_STATE_PIRQ
M.STATE_VIRQ = core.EVTCHNX_STATE_VIRQ
M.STATE_IPI = core.EVTCHNX_STATE_IPI

-- state number -> name, as found in status(...).state_name
M.state_names = {
	[M.STATE_CLOSED] = "closed",
	[M.STATE_UNBOUND] = "unbound",
	[M.STATE_INTERDOMAIN] = "interdomain",
	[M.STATE_PIRQ] = "pirq",
	[M.STATE_VIRQ] = "virq",
	[M.STATE_IPI] = "ipi",
}

-- The header this module was built against, and the library in use.
M.HEADER_VERSION = core.EVTCHNX_VERSION_STRING
M._VERSION = M.HEADER_VERSION

function M.version()
	return core.evtchnx_version()
end

function M.strerror(err)
	return core.evtchnx_strerror(err)
end

-- Seconds on a monotonic clock (a float, sub-microsecond resolution), for
-- deadlines and measurements.
M.monotonic = core.monotonic

-- errno values by name: evtchnx.errno.ENOTCONN == 107 (this system's values)
M.errno = core.errno_names()

-- ---- errors ----------------------------------------------------------------

local error_mt = core.error_metatable()

-- true when @v is an error object raised by this module
function M.is_error(v)
	return type(v) == "table" and getmetatable(v) == error_mt
end

-- ---- handles ---------------------------------------------------------------

-- A handle is a userdata made by the C module: it owns the C handle, closes
-- it when collected, and refuses every call once closed ("handle is
-- closed", errno EBADF).  Its methods are the C functions themselves where
-- the C signature is already the Lua one.
local c_close, c_is_closed = core.evtchnx_close, core.is_closed
local c_domid, c_backend = core.evtchnx_domid, core.evtchnx_backend
local c_pending, c_pending_batch = core.evtchnx_pending, core.evtchnx_pending_batch
local c_wait = core.evtchnx_wait
local c_alloc_unbound = core.evtchnx_alloc_unbound
local DOMID_SELF = core.EVTCHNX_DOMID_SELF
local c_open, new_opts = core.evtchnx_open, core.evtchnx_open_opts

local Handle = {
	-- h:close(): close the handle and every port it owns; closing twice
	-- does nothing.
	close = c_close,
	-- h:is_closed() -> boolean
	is_closed = c_is_closed,
	-- h:fd() -> the pollable descriptor (readable whenever a port is
	-- pending; spuriously at times, then pending() returns nil); owned by
	-- the handle.
	fd = core.evtchnx_fd,
	-- h:domid() -> the domain this handle acts as
	domid = c_domid,
	-- h:backend() -> "sim" or "xen"
	backend = c_backend,
	-- h:alloc_unbound(dom, remote_dom) -> port in dom (DOMID_SELF, or
	-- another domain for the control domain) offered to remote_dom;
	-- h:alloc_unbound(remote_dom) allocates in the handle's own domain
	alloc_unbound = function(h, ...)
		if select("#", ...) == 1 then
			return c_alloc_unbound(h, DOMID_SELF, ...)
		end
		return c_alloc_unbound(h, ...)
	end,
	-- h:bind_interdomain(remote_dom, remote_port) -> local port (left
	-- pending, as on Xen)
	bind_interdomain = core.evtchnx_bind_interdomain,
	-- h:bind_virq(virq) -> port
	bind_virq = core.evtchnx_bind_virq,
	-- h:adopt(port): take a port the control domain allocated for us
	adopt = core.evtchnx_adopt,
	-- h:send(port)
	send = core.evtchnx_send,
	-- h:unbind(port): close one port (EVTCHNOP_close)
	unbind = core.evtchnx_unbind,
	-- h:status(dom, port) -> { state=, state_name=, vcpu=, remote_domid=,
	-- remote_port=, virq= }
	status = core.evtchnx_status,
	-- h:reset(dom)
	reset = core.evtchnx_reset,
	-- h:restrict(domid)
	restrict = core.evtchnx_restrict,
	-- h:pending() -> the next pending port (left masked), or nil
	pending = c_pending,
	-- h:wait([timeout_ms]) -> the next port (taken and masked), or nil on
	-- timeout; a negative, nil or absent timeout waits forever
	wait = c_wait,
	-- h:unmask(port)
	unmask = core.evtchnx_unmask,
	-- h:is_pending(port) -> boolean, without taking the event
	is_pending = core.evtchnx_is_pending,
	-- Batches: as many single calls, in array order, in as few requests
	-- as the backend can.  They return the whole result or raise the
	-- error of the first element that failed; that error object also
	-- carries what was done before it, so that no port is lost:
	--   err.done     how many elements were done
	--   err.index    the failing element (err.done + 1)
	--   err.port     its port (not for alloc_unbound_batch)
	--   err.ports    the ports allocated, bound, unbound, unmasked or
	--                described before it
	--   err.statuses status_batch: their statuses
	-- h:alloc_unbound_batch(dom, remote_dom, n) -> { port, ... }
	alloc_unbound_batch = core.evtchnx_alloc_unbound_batch,
	-- h:bind_interdomain_batch(remote_dom, { remote_port, ... })
	-- -> { local port, ... } (each left pending, as bind_interdomain)
	bind_interdomain_batch = core.evtchnx_bind_interdomain_batch,
	-- h:unbind_batch({ port, ... }) -> count
	unbind_batch = core.evtchnx_unbind_batch,
	-- h:unmask_batch({ port, ... }) -> count
	unmask_batch = core.evtchnx_unmask_batch,
	-- h:status_batch(dom, { port, ... }) -> { status table, ... }
	status_batch = core.evtchnx_status_batch,
	-- sim toolstack (control domain only; EOPNOTSUPP on xen)
	domain_create = core.evtchnx_domain_create,
	-- h:domain_grant(domid) -> the token for joining a strict lab as domid
	domain_grant = function(h, domid)
		local _, token = core.evtchnx_domain_grant(h, domid)
		return token
	end,
	domain_destroy = core.evtchnx_domain_destroy,
	raise_virq = core.evtchnx_raise_virq,
}
Handle.fileno = Handle.fd

-- h:pending_batch([max]) -> array of up to max (default 64) pending ports,
-- each taken and masked; empty when none is pending.
-- (Extra arguments go to C, which refuses them.)
function Handle:pending_batch(max, ...)
	if max == nil then
		max = 64
	end
	return c_pending_batch(self, max, ...)
end

-- for port in h:events([timeout_ms]) do ... h:unmask(port) end
-- Takes every pending port without blocking; with timeout_ms, first waits
-- up to that long for one.
function Handle:events(timeout_ms)
	local first = timeout_ms ~= nil
	return function()
		if first then
			first = false
			return c_wait(self, timeout_ms)
		end
		return c_pending(self)
	end
end

M.Handle = Handle

local handle_mt = core.handle_metatable()
handle_mt.__index = Handle
-- Lua 5.4: local h <close> = evtchnx.open{...}
handle_mt.__close = c_close
handle_mt.__tostring = function(h)
	if c_is_closed(h) then
		return "evtchnx.handle (closed)"
	end
	return ("evtchnx.handle (%s, domid %d)"):format(c_backend(h), c_domid(h))
end

-- true when @v is a handle (open or closed)
function M.is_handle(v)
	return type(v) == "userdata" and pcall(c_is_closed, v)
end

local function check_u32(v, name)
	if type(v) ~= "number" or v < 0 or v > 0xFFFFFFFF or v ~= math.floor(v) then
		error("evtchnx.open: option '" .. name
			.. "' must be an integer 0..4294967295, got " .. tostring(v), 3)
	end
end

local open_keys = {
	target = true, domid = true, flags = true, no_spawn = true,
	busy_poll_ns = true,
}

-- evtchnx.open{ target=, domid=, flags=, no_spawn=, busy_poll_ns= }
-- evtchnx.open([target [, { domid=, flags=, no_spawn=, busy_poll_ns= }]])
-- target: "xen", "sim", "sim:NAME", or nil to choose ($EVTCHNX_TARGET, else
-- xen when /dev/xen/evtchn exists, else sim).
-- busy_poll_ns: h:wait() first looks for an event for up to this many
-- nanoseconds, spinning on the CPU, before it sleeps (0, the default,
-- never spins; at most 1e9, else an EINVAL error).
function M.open(target, opts)
	if type(target) == "table" and opts == nil then
		opts, target = target, target.target
	end
	if target ~= nil and type(target) ~= "string" then
		error("evtchnx.open: target must be a string or nil, got "
			.. type(target), 2)
	end
	if opts ~= nil and type(opts) ~= "table" then
		error("evtchnx.open: options must be a table, got " .. type(opts), 2)
	end
	local o
	if opts then
		for k in pairs(opts) do
			if not open_keys[k] then
				error("evtchnx.open: unknown option '" .. tostring(k) .. "'", 2)
			end
		end
		local domid, flags = opts.domid or 0, opts.flags or 0
		local busy = opts.busy_poll_ns or 0
		check_u32(domid, "domid")
		check_u32(flags, "flags")
		if type(busy) ~= "number" or busy < 0 or busy > 2^53
			or busy ~= math.floor(busy) then
			error("evtchnx.open: option 'busy_poll_ns' must be an integer "
				.. "0..2^53, got " .. tostring(busy), 2)
		end
		if opts.no_spawn and flags % (2 * M.OPEN_NO_SPAWN) < M.OPEN_NO_SPAWN then
			flags = flags + M.OPEN_NO_SPAWN
		end
		o = new_opts(domid, flags, busy)
	end
	return c_open(target, o)
end

-- ---- error values ----------------------------------------------------------

-- The errno carried by an error value caught with pcall, or nil when the
-- error did not come from the library (a bad argument, a bug).
function M.errno_of(err)
	if M.is_error(err) then
		return err.errno
	end
	return nil
end

return M
