-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- Every error path of the API through Lua: each raises an error object
-- {call=, errno=, name=, message=} catchable with pcall, whose message
-- names the call and the errno.

local evtchnx = require "evtchnx"
local T = require "evtchnx_test"
local SELF = T.SELF

local function exists(path)
	local f = io.open(path, "r")
	if f then
		f:close()
		return true
	end
	return false
end

-- Run a Lua snippet in a child interpreter with extra environment
-- variables; returns its exit status and output.
local function child(env, code)
	local vars = {}
	for k, v in pairs(env) do
		vars[#vars + 1] = k .. "=" .. T.q(v)
	end
	local cmd = ("env %s %s -e %s"):format(table.concat(vars, " "),
		T.q(T.interpreter()), T.q(code))
	return T.spawn(cmd).finish()
end

describe("errors", function()
	after_each(T.cleanup)

	describe("the error object", function()
		it("has call, errno, name, message and __tostring", function()
			local A = T.open(1)
			local ok, err = pcall(A.send, A, 1)
			assert.is_false(ok)
			assert.is_true(evtchnx.is_error(err))
			assert.are.equal("evtchnx_send", err.call)
			assert.are.equal(evtchnx.errno.ENOTCONN, err.errno)
			assert.are.equal("ENOTCONN", err.name)
			assert.are.equal("evtchnx_send: " .. evtchnx.strerror(-err.errno)
				.. " (errno " .. err.errno .. ")", err.message)
			assert.are.equal(err.message, tostring(err))
			assert.are.equal(err.errno, evtchnx.errno_of(err))
			assert.is_nil(evtchnx.errno_of("a string"))
			assert.is_false(evtchnx.is_error("evtchnx_send: x"))
			assert.is_false(evtchnx.is_error({ errno = 1 }))
		end)

		it("works with error(), xpcall and string concatenation via tostring", function()
			local A = T.open(1)
			local ok, msg = xpcall(function()
				A:unbind(4095)
			end, function(e)
				return "caught: " .. tostring(e)
			end)
			assert.is_false(ok)
			assert.truthy(msg:find("caught: evtchnx_unbind:", 1, true))
			-- rethrown as is, still an error object
			local ok2, err2 = pcall(function()
				local ok3, e = pcall(A.unbind, A, 4095)
				assert(not ok3)
				error(e)
			end)
			assert.is_false(ok2)
			assert.are.equal("ENOTCONN", err2.name)
		end)

		it("errno values by name", function()
			for _, name in ipairs{ "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "EBADF",
				"EAGAIN", "ENOMEM", "EACCES", "EBUSY", "EEXIST", "ENODEV", "EINVAL",
				"ENFILE", "EMFILE", "ENOSPC", "ENOSYS", "EOPNOTSUPP", "ECONNREFUSED",
				"ENOTCONN", "ETIMEDOUT" } do
				assert.is_true(T.is_integer(evtchnx.errno[name]), name)
				assert.is_true(evtchnx.errno[name] > 0, name)
			end
		end)
	end)

	describe("evtchnx_open", function()
		it("bad targets: EINVAL", function()
			local long = "sim:" .. ("x"):rep(65)
			for _, target in ipairs{ "bogus", "sim:", "sim:.hidden", "sim:bad/name",
				"sim:a b", "xen:x", long } do
				T.raises("evtchnx_open", "EINVAL", evtchnx.open, { target = target })
			end
			-- 64 characters are fine (no_spawn: refused, not invalid)
			local pid = tostring(T.pid())
			local name64 = ("y"):rep(64 - #pid) .. pid
			T.raises("evtchnx_open", "ECONNREFUSED", evtchnx.open,
				{ target = "sim:" .. name64, no_spawn = true })
		end)

		it("reserved domid and unknown flags: EINVAL", function()
			T.raises("evtchnx_open", "EINVAL", evtchnx.open,
				{ target = "sim", domid = evtchnx.DOMID_FIRST_RESERVED })
			T.raises("evtchnx_open", "EINVAL", evtchnx.open,
				{ target = "sim", domid = 0xFFFF })
			T.raises("evtchnx_open", "EINVAL", evtchnx.open,
				{ target = "sim", domid = 0xFFFFFFFF })
			T.raises("evtchnx_open", "EINVAL", evtchnx.open, { target = "sim", flags = 0x100 })
			T.raises("evtchnx_open", "EINVAL", evtchnx.open,
				{ target = "sim", flags = 0x80000000 })
		end)

		it("no lab server and no_spawn: ECONNREFUSED", function()
			local lab = "sim:" .. T.unique("lua-nospawn")
			T.raises("evtchnx_open", "ECONNREFUSED", evtchnx.open,
				{ target = lab, domid = 1, no_spawn = true })
			T.raises("evtchnx_open", "ECONNREFUSED", evtchnx.open,
				{ target = lab, flags = evtchnx.OPEN_NO_SPAWN })
		end)

		it("xen on a machine without Xen: ENODEV (or ENOSYS without the backend)", function()
			if exists("/dev/xen/evtchn") then
				pending("this machine runs on Xen")
				return
			end
			local ok, err = pcall(evtchnx.open, { target = "xen" })
			assert.is_false(ok)
			assert.is_true(evtchnx.is_error(err))
			assert.are.equal("evtchnx_open", err.call)
			assert.is_true(err.name == "ENODEV" or err.name == "ENOSYS", tostring(err))
		end)

		it("a lab full of domains: ENOSPC", function()
			for d = 1, evtchnx.SIM_MAX_DOMAINS - 1 do
				T.open(d)
			end
			T.raises("evtchnx_open", "ENOSPC", evtchnx.open, { target = "sim", domid = 100 })
		end)

		it("lab server program not found: ENOENT", function()
			local lab = "sim:" .. T.unique("lua-nolabd")
			local status, out = child({ EVTCHNX_LABD = "/nonexistent/evtchnx-labd" }, ([[
				local e = require "evtchnx"
				local ok, err = pcall(e.open, { target = %q })
				print(ok, e.is_error(err) and err.name, tostring(err))
			]]):format(lab))
			assert.are.equal(0, status, out)
			assert.truthy(out:find("false\tENOENT\tevtchnx_open: ", 1, true), out)
		end)

		it("a lab directory other users could enter: EACCES", function()
			local dir = os.tmpname()
			os.remove(dir)
			assert.is_true(T.sh("mkdir -m 0755 " .. T.q(dir) .. " && mkdir -m 0755 "
				.. T.q(dir .. "/evtchnx")))
			local status, out = child({ XDG_RUNTIME_DIR = dir }, [[
				local e = require "evtchnx"
				local ok, err = pcall(e.open, { target = "sim:lua-eacces" })
				print(ok, e.is_error(err) and err.name, tostring(err))
			]])
			T.sh("rm -rf " .. T.q(dir))
			assert.are.equal(0, status, out)
			assert.truthy(out:find("false\tEACCES\tevtchnx_open: ", 1, true), out)
		end)
	end)

	describe("port calls", function()
		local A, B, C
		before_each(function()
			A, B, C = T.open(1), T.open(2), T.open(0)
		end)

		it("alloc_unbound", function()
			T.raises("evtchnx_alloc_unbound", "EINVAL", A.alloc_unbound, A, 0x10000, 2)
			T.raises("evtchnx_alloc_unbound", "EINVAL", A.alloc_unbound, A, SELF, 0x10000)
			T.raises("evtchnx_alloc_unbound", "ESRCH", C.alloc_unbound, C, 40, SELF)
			T.raises("evtchnx_alloc_unbound", "EPERM", A.alloc_unbound, A, 2, SELF)
			T.raises("evtchnx_alloc_unbound", "EPERM", A.alloc_unbound, A, 0, SELF)
			local R = T.open(3)
			R:restrict(1)
			T.raises("evtchnx_alloc_unbound", "EACCES", R.alloc_unbound, R, SELF, 1)
		end)

		it("bind_interdomain", function()
			local p = A:alloc_unbound(SELF, 2)
			T.raises("evtchnx_bind_interdomain", "EINVAL", B.bind_interdomain, B, 0x10000, p)
			T.raises("evtchnx_bind_interdomain", "ESRCH", B.bind_interdomain, B, 40, p)
			T.raises("evtchnx_bind_interdomain", "EINVAL", B.bind_interdomain, B, 1, 0)
			T.raises("evtchnx_bind_interdomain", "EINVAL", B.bind_interdomain, B, 1, 0xFFFFFFFF)
			T.raises("evtchnx_bind_interdomain", "EINVAL", B.bind_interdomain, B, 1, p + 1)
			-- offered to 2, not to 0
			T.raises("evtchnx_bind_interdomain", "EINVAL", C.bind_interdomain, C, 1, p)
			B:bind_interdomain(1, p)
			-- no longer unbound
			T.raises("evtchnx_bind_interdomain", "EINVAL", B.bind_interdomain, B, 1, p)
			local R = T.open(3)
			R:restrict(2)
			local other = A:alloc_unbound(SELF, 3)
			T.raises("evtchnx_bind_interdomain", "EACCES", R.bind_interdomain, R, 1, other)
		end)

		it("bind_interdomain with no free local port: ENOSPC before the remote checks", function()
			while pcall(B.alloc_unbound, B, SELF, 1) do
			end
			T.raises("evtchnx_bind_interdomain", "ENOSPC", B.bind_interdomain, B, 1, 0)
		end)

		it("bind_virq", function()
			T.raises("evtchnx_bind_virq", "EINVAL", A.bind_virq, A, evtchnx.NR_VIRQS)
			T.raises("evtchnx_bind_virq", "EINVAL", A.bind_virq, A, 0xFFFFFFFF)
			-- VIRQ_DOM_EXC (3) is global: handled by the control domain
			T.raises("evtchnx_bind_virq", "EBUSY", A.bind_virq, A, 3)
			A:bind_virq(0)
			T.raises("evtchnx_bind_virq", "EEXIST", A.bind_virq, A, 0)
		end)

		it("adopt", function()
			T.raises("evtchnx_adopt", "EINVAL", A.adopt, A, 0)
			T.raises("evtchnx_adopt", "EINVAL", A.adopt, A, 0xFFFFFFFF)
			T.raises("evtchnx_adopt", "EINVAL", A.adopt, A, 4000)
			local own = A:alloc_unbound(SELF, 2)
			T.raises("evtchnx_adopt", "EBUSY", A.adopt, A, own)
			local given = C:alloc_unbound(1, SELF)
			local R = T.open(1)
			R:restrict(2)
			T.raises("evtchnx_adopt", "EACCES", R.adopt, R, given)
		end)

		it("send, unbind, unmask, is_pending: EINVAL then ENOTCONN", function()
			local p = A:alloc_unbound(SELF, 2)
			local A2 = T.open(1)
			local given = C:alloc_unbound(1, SELF)
			for _, m in ipairs{ "send", "unbind", "unmask", "is_pending" } do
				local call = "evtchnx_" .. m
				T.raises(call, "EINVAL", A[m], A, 0)
				T.raises(call, "EINVAL", A[m], A, evtchnx.SIM_MAX_PORTS)
				T.raises(call, "EINVAL", A[m], A, 0x80000000)
				T.raises(call, "EINVAL", A[m], A, 0xFFFFFFFF)
				-- free
				T.raises(call, "ENOTCONN", A[m], A, 4000)
				-- another handle's
				T.raises(call, "ENOTCONN", A2[m], A2, p)
				-- allocated by the control domain, not adopted
				T.raises(call, "ENOTCONN", A[m], A, given)
			end
		end)

		it("status", function()
			T.raises("evtchnx_status", "ESRCH", C.status, C, 40, 1)
			T.raises("evtchnx_status", "EPERM", A.status, A, 2, 1)
			T.raises("evtchnx_status", "EPERM", A.status, A, 0, 1)
			T.raises("evtchnx_status", "EINVAL", A.status, A, SELF, evtchnx.SIM_MAX_PORTS)
			T.raises("evtchnx_status", "EINVAL", A.status, A, SELF, 0xFFFFFFFF)
			T.raises("evtchnx_status", "EINVAL", A.status, A, 0x10000, 1)
			-- ESRCH is checked first
			T.raises("evtchnx_status", "ESRCH", A.status, A, 40, 0xFFFFFFFF)
		end)

		it("reset", function()
			T.raises("evtchnx_reset", "EINVAL", A.reset, A, 0x10000)
			T.raises("evtchnx_reset", "ESRCH", C.reset, C, 40)
			T.raises("evtchnx_reset", "EPERM", A.reset, A, 2)
		end)

		it("restrict", function()
			T.raises("evtchnx_restrict", "EINVAL", A.restrict, A, 0)
			T.raises("evtchnx_restrict", "EINVAL", A.restrict, A, evtchnx.DOMID_FIRST_RESERVED)
			T.raises("evtchnx_restrict", "EINVAL", A.restrict, A, 0xFFFFFFFF)
			A:restrict(2)
			T.raises("evtchnx_restrict", "EACCES", A.restrict, A, 2)
			T.raises("evtchnx_restrict", "EACCES", A.restrict, A, 3)
		end)

		it("pending_batch with max 0: EINVAL", function()
			T.raises("evtchnx_pending_batch", "EINVAL", A.pending_batch, A, 0)
		end)

		it("domain_create", function()
			T.raises("evtchnx_domain_create", "EPERM", A.domain_create, A, 20)
			T.raises("evtchnx_domain_create", "EINVAL", C.domain_create, C,
				evtchnx.DOMID_FIRST_RESERVED)
			T.raises("evtchnx_domain_create", "EINVAL", C.domain_create, C, 0x10000)
			T.raises("evtchnx_domain_create", "EEXIST", C.domain_create, C, 1)
			T.raises("evtchnx_domain_create", "EEXIST", C.domain_create, C, 0)
		end)

		it("domain_create in a full lab: ENOSPC", function()
			for d = 3, evtchnx.SIM_MAX_DOMAINS - 1 do
				T.open(d)
			end
			T.raises("evtchnx_domain_create", "ENOSPC", C.domain_create, C, 100)
		end)

		it("domain_destroy", function()
			T.raises("evtchnx_domain_destroy", "EPERM", A.domain_destroy, A, 2)
			T.raises("evtchnx_domain_destroy", "EINVAL", C.domain_destroy, C, 0)
			T.raises("evtchnx_domain_destroy", "EINVAL", C.domain_destroy, C,
				evtchnx.DOMID_FIRST_RESERVED)
			T.raises("evtchnx_domain_destroy", "ESRCH", C.domain_destroy, C, 40)
		end)

		it("a destroyed domain's handles fail with ESRCH", function()
			T.domain_create(C, 21)
			local E = T.open(21)
			local port = E:alloc_unbound(SELF, 0)
			C:domain_destroy(21)
			T.raises("evtchnx_alloc_unbound", "ESRCH", E.alloc_unbound, E, SELF, 0)
			local ok, err = pcall(E.send, E, port)
			assert.is_false(ok)
			assert.is_true(evtchnx.is_error(err))
		end)

		it("raise_virq", function()
			T.raises("evtchnx_raise_virq", "EPERM", A.raise_virq, A, 2, 0)
			T.raises("evtchnx_raise_virq", "EINVAL", C.raise_virq, C, 1, evtchnx.NR_VIRQS)
			T.raises("evtchnx_raise_virq", "ESRCH", C.raise_virq, C, 40, 0)
		end)
	end)

	describe("closed handles", function()
		it("every call raises 'handle is closed' (EBADF) and never reaches C", function()
			local A = T.open(1)
			A:close()
			local calls = {
				{ "fd" }, { "domid" }, { "backend" },
				{ "alloc_unbound", SELF, 2 }, { "bind_interdomain", 2, 1 },
				{ "bind_virq", 0 }, { "adopt", 1 }, { "send", 1 }, { "unbind", 1 },
				{ "status", SELF, 1 }, { "reset", SELF }, { "restrict", 2 },
				{ "pending" }, { "pending_batch", 8 }, { "wait", 0 }, { "unmask", 1 },
				{ "is_pending", 1 }, { "domain_create", 5 }, { "domain_destroy", 5 },
				{ "raise_virq", 1, 0 },
				{ "alloc_unbound_batch", SELF, 2, 1 },
				{ "bind_interdomain_batch", 2, { 1 } }, { "unbind_batch", { 1 } },
				{ "unmask_batch", { 1 } }, { "status_batch", SELF, { 1 } },
			}
			for _, c in ipairs(calls) do
				local m = c[1]
				local ok, err = pcall(A[m], A, select(2, (table.unpack or unpack)(c)))
				assert.is_false(ok, m)
				assert.is_true(evtchnx.is_error(err), m)
				assert.are.equal("evtchnx_" .. m, err.call)
				assert.are.equal("EBADF", err.name)
				assert.are.equal("evtchnx_" .. m .. ": handle is closed", tostring(err))
			end
			local ok, err = pcall(function()
				for _ in A:events() do
				end
			end)
			assert.is_false(ok)
			assert.truthy(tostring(err):find("handle is closed", 1, true))
			-- closing again is harmless
			A:close()
			assert.is_true(A:is_closed())
		end)
	end)
end)
