-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- Garbage arguments: every method, every integer argument, every kind of
-- wrong value gives a Lua error (a string naming the call and the
-- argument), never a crash and never a call into C with a truncated value.

local evtchnx = require "evtchnx"
local core = require "evtchnx_core"
local T = require "evtchnx_test"
local SELF = T.SELF

local unpack = table.unpack or unpack

-- Values no uint32_t argument accepts.
local function u32_garbage()
	local g = {
		{ "nil", nil }, { "string", "1" }, { "empty string", "" }, { "word", "port" },
		{ "fraction", 1.5 }, { "small fraction", 0.25 }, { "negative fraction", -0.5 },
		{ "NaN", 0 / 0 }, { "inf", 1 / 0 }, { "-inf", -1 / 0 },
		{ "-1", -1 }, { "INT_MIN", -2 ^ 31 }, { "2^32", 2 ^ 32 }, { "2^32+1", 2 ^ 32 + 1 },
		{ "2^53", 2 ^ 53 }, { "2^63", 2 ^ 63 }, { "-2^63", -2 ^ 63 }, { "1e300", 1e300 },
		{ "true", true }, { "false", false }, { "table", {} }, { "function", print },
		{ "userdata", io.stdout }, { "thread", coroutine.create(print) },
	}
	if math.maxinteger then
		g[#g + 1] = { "maxinteger", math.maxinteger }
		g[#g + 1] = { "mininteger", math.mininteger }
		g[#g + 1] = { "2^32 (integer)", math.tointeger(2 ^ 32) }
		g[#g + 1] = { "-1 (integer)", -1 }
	end
	return g
end

-- Values no int argument (wait's timeout) accepts.
local function int_garbage()
	local g = {
		{ "string", "10" }, { "fraction", 0.5 }, { "NaN", 0 / 0 }, { "inf", 1 / 0 },
		{ "2^31", 2 ^ 31 }, { "-2^31-1", -2 ^ 31 - 1 }, { "2^63", 2 ^ 63 },
		{ "true", true }, { "table", {} }, { "userdata", io.stdout },
	}
	if math.maxinteger then
		g[#g + 1] = { "maxinteger", math.maxinteger }
	end
	return g
end

-- Values no array-of-ports argument accepts: not a table, or a table with
-- one element that no uint32_t argument accepts.
local function array_garbage()
	local g = {
		{ "nil", nil }, { "number", 1 }, { "string", "1" }, { "true", true },
		{ "function", print }, { "userdata", io.stdout },
	}
	for _, e in ipairs(u32_garbage()) do
		if e[2] ~= nil then
			g[#g + 1] = { "{ " .. e[1] .. " }", { e[2] } }
			g[#g + 1] = { "{ 1, " .. e[1] .. " }", { 1, e[2] } }
		end
	end
	return g
end

-- method, valid arguments (each position is replaced by garbage in turn),
-- and the kind of each argument
local methods = {
	{ "alloc_unbound", { SELF, 2 }, "uu" },
	{ "bind_interdomain", { 2, 1 }, "uu" },
	{ "bind_virq", { 0 }, "u" },
	{ "adopt", { 1 }, "u" },
	{ "send", { 1 }, "u" },
	{ "unbind", { 1 }, "u" },
	{ "status", { SELF, 1 }, "uu" },
	{ "reset", { SELF }, "u" },
	{ "restrict", { 2 }, "u" },
	{ "unmask", { 1 }, "u" },
	{ "is_pending", { 1 }, "u" },
	{ "domain_create", { 5 }, "u" },
	{ "domain_destroy", { 5 }, "u" },
	{ "raise_virq", { 1, 0 }, "uu" },
	{ "pending_batch", { 8 }, "u" },
	{ "wait", { 0 }, "i" },
	{ "alloc_unbound_batch", { SELF, 2, 1 }, "uuu" },
	{ "bind_interdomain_batch", { 2, { 1 } }, "ua" },
	{ "unbind_batch", { { 1 } }, "a" },
	{ "unmask_batch", { { 1 } }, "a" },
	{ "status_batch", { SELF, { 1 } }, "ua" },
}

local function expect_argerror(what, fn, ...)
	local ok, err = pcall(fn, ...)
	assert(not ok, what .. ": accepted")
	assert(type(err) == "string", what .. ": expected a string error, got " .. tostring(err))
	return err
end

describe("garbage arguments", function()
	after_each(T.cleanup)

	it("every integer argument of every method rejects every wrong value", function()
		local h = T.open(0)
		local n = 0
		for _, m in ipairs(methods) do
			local name, valid, kinds = m[1], m[2], m[3]
			for pos = 1, #valid do
				local kind = kinds:sub(pos, pos)
				local garbage = kind == "u" and u32_garbage()
					or kind == "a" and array_garbage() or int_garbage()
				for _, g in ipairs(garbage) do
					-- (nil is pending_batch's "default max")
					local skip = name == "pending_batch" and g[1] == "nil"
					if not skip then
						local args = { unpack(valid) }
						args[pos] = g[2]
						local what = ("%s arg %d = %s"):format(name, pos, g[1])
						local err = expect_argerror(what, h[name], h,
							unpack(args, 1, #valid))
						local want = "evtchnx_" .. name .. ": bad argument #" .. (pos + 1)
						assert(err:find(want, 1, true), what .. ": " .. err)
						n = n + 1
					end
				end
			end
		end
		assert.is_true(n > 300)
		-- the handle still works
		assert.is_nil(h:pending())
	end)

	it("the error names the argument", function()
		local h = T.open(1)
		local err = expect_argerror("send", h.send, h, "x")
		assert.are.equal(
			"evtchnx_send: bad argument #2 'port' (integer 0..4294967295 expected, got string)", err)
		err = expect_argerror("alloc_unbound", h.alloc_unbound, h, SELF, -1)
		assert.truthy(err:find("'remote_dom'", 1, true), err)
		assert.truthy(err:find("got -1", 1, true), err)
		err = expect_argerror("wait", h.wait, h, 0.5)
		assert.truthy(err:find("'timeout_ms'", 1, true), err)
	end)

	it("integral floats are accepted as integers", function()
		local A, B = T.open(1), T.open(2)
		local p = A:alloc_unbound(SELF + 0.0, 2.0)
		local q = B:bind_interdomain(1.0, p + 0.0)
		T.drain(B)
		A:send(p * 1.0)
		assert.are.equal(q, B:wait(1000.0))
		assert.is_true(T.is_integer(q))
	end)

	it("missing and extra arguments are errors", function()
		local h = T.open(1)
		for _, m in ipairs(methods) do
			local name, valid = m[1], m[2]
			if name ~= "pending_batch" and name ~= "wait" then
				-- alloc_unbound(remote_dom) is a valid short form
				local few = name == "alloc_unbound" and 0 or #valid - 1
				local ok = pcall(h[name], h, unpack(valid, 1, few))
				assert.is_false(ok, name .. " with too few arguments")
			end
			local args = { unpack(valid) }
			args[#args + 1] = 1
			args[#args + 1] = 2
			local ok = pcall(h[name], h, unpack(args, 1, #valid + 2))
			assert.is_false(ok, name .. " with too many arguments")
		end
		assert.is_false(pcall(h.pending, h, 1))
	end)

	it("anything but an open handle as self is an error", function()
		local closed = T.open(1)
		closed:close()
		local opts = core.evtchnx_open_opts()
		local selves = { nil, 1, "h", {}, true, print, io.stdout, opts,
			coroutine.create(print) }
		for _, m in ipairs(methods) do
			local name, valid = m[1], m[2]
			for i = 1, 9 do
				local ok, err = pcall(evtchnx.Handle[name], selves[i], unpack(valid))
				assert.is_false(ok, name)
				assert.are.equal("string", type(err), name)
				assert.truthy(err:find("evtchnx handle expected", 1, true), err)
			end
			local ok, err = pcall(evtchnx.Handle[name], closed, unpack(valid))
			assert.is_false(ok)
			assert.truthy(tostring(err):find("handle is closed", 1, true), tostring(err))
		end
		for _, f in ipairs{ "close", "is_closed", "fd", "domid", "backend", "pending" } do
			for i = 1, 9 do
				assert.is_false(pcall(evtchnx.Handle[f], selves[i]), f)
			end
		end
	end)

	it("evtchnx.open rejects wrong targets and options", function()
		local bad = {
			{ 1 }, { true }, { "sim", "x" }, { "sim", 1 },
			{ { target = 1 } }, { { target = {} } },
			{ { target = "sim", domid = "1" } }, { { target = "sim", domid = -1 } },
			{ { target = "sim", domid = 1.5 } }, { { target = "sim", domid = 2 ^ 32 } },
			{ { target = "sim", domid = 0 / 0 } }, { { target = "sim", domid = true } },
			{ { target = "sim", flags = "1" } }, { { target = "sim", flags = -1 } },
			{ { target = "sim", flags = 2 ^ 40 } }, { { target = "sim", bogus = 1 } },
			{ { target = "sim", [1] = 2 } },
		}
		for i, args in ipairs(bad) do
			local ok, err = pcall(evtchnx.open, unpack(args, 1, 2))
			assert.is_false(ok, "case " .. i)
			assert.are.equal("string", type(err), "case " .. i)
		end
		-- the C module directly: the same checks
		assert.is_false(pcall(core.evtchnx_open, {}, nil))
		assert.is_false(pcall(core.evtchnx_open, "sim", 1))
		assert.is_false(pcall(core.evtchnx_open, "sim", io.stdout))
		assert.is_false(pcall(core.evtchnx_open_opts, "x"))
		assert.is_false(pcall(core.evtchnx_open_opts, -1))
		assert.is_false(pcall(core.evtchnx_open_opts, 1.5))
		assert.is_false(pcall(core.evtchnx_strerror, "x"))
		assert.is_false(pcall(core.evtchnx_strerror, 2 ^ 31))
		assert.is_false(pcall(core.make_error, nil, 1))
		-- the size field of an options struct is read-only
		local o = core.evtchnx_open_opts(1, 0)
		assert.is_true(o.sz > 0)
		assert.is_false(pcall(function()
			o.sz = 1000000
		end))
		assert.is_false(pcall(function()
			o.domid = -1
		end))
		assert.is_false(pcall(function()
			o.domid = "2"
		end))
	end)

	it("strerror takes any int", function()
		for _, e in ipairs{ 0, 1, -1, 107, -107, 2 ^ 31 - 1, -2 ^ 31, 99999 } do
			assert.are.equal("string", type(evtchnx.strerror(e)))
		end
	end)
end)
