-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- Delivery through the Lua layer: pending, pending_batch, wait, events(),
-- and the handle accessors.

local evtchnx = require "evtchnx"
local T = require "evtchnx_test"
local SELF = T.SELF

-- @n channels from A (domain 1) to B (domain 2), the bind events taken.
local function channels(A, B, n)
	local ps, qs = {}, {}
	for i = 1, n do
		ps[i] = A:alloc_unbound(SELF, 2)
		qs[i] = B:bind_interdomain(1, ps[i])
	end
	T.drain(B)
	return ps, qs
end

describe("delivery", function()
	after_each(T.cleanup)

	it("handle accessors: fd, domid, backend", function()
		local A = T.open(1)
		local fd = A:fd()
		assert.is_true(T.is_integer(fd))
		assert.is_true(fd >= 0)
		assert.are.equal(fd, A:fileno())
		assert.are.equal(1, A:domid())
		assert.is_true(T.is_integer(A:domid()))
		assert.are.equal("sim", A:backend())
		assert.are.equal(0, T.open(0):domid())
	end)

	it("pending_batch takes every pending port once", function()
		local A, B = T.open(1), T.open(2)
		local ps, qs = channels(A, B, 10)
		assert.are.same({}, B:pending_batch())
		for i = 1, 10 do
			A:send(ps[i])
		end
		local got = B:pending_batch(64)
		assert.are.equal(10, #got)
		local set = {}
		for _, port in ipairs(got) do
			assert.is_true(T.is_integer(port))
			assert.is_nil(set[port])
			set[port] = true
		end
		for i = 1, 10 do
			assert.is_true(set[qs[i]])
		end
		-- taken ports are masked
		assert.are.same({}, B:pending_batch())
		A:send(ps[1])
		assert.are.same({}, B:pending_batch())
		B:unmask(qs[1])
		assert.are.same({ qs[1] }, B:pending_batch())
	end)

	it("pending_batch stops at max", function()
		local A, B = T.open(1), T.open(2)
		local ps = channels(A, B, 5)
		for i = 1, 5 do
			A:send(ps[i])
		end
		assert.are.equal(2, #B:pending_batch(2))
		assert.are.equal(3, #B:pending_batch(100))
		-- a huge max is bounded by the binding, not an allocation failure
		assert.are.same({}, B:pending_batch(0xFFFFFFFF))
	end)

	it("wait returns the port, or nil on timeout", function()
		local A, B = T.open(1), T.open(2)
		local ps, qs = channels(A, B, 1)
		assert.is_nil(B:wait(0))
		assert.is_nil(B:wait(20))
		A:send(ps[1])
		local port = B:wait(1000)
		assert.are.equal(qs[1], port)
		assert.is_true(T.is_integer(port))
		-- taken and masked, as pending() does
		assert.is_nil(B:pending())
		B:unmask(port)
		A:send(ps[1])
		-- no timeout: waits forever (an event is already there)
		assert.are.equal(qs[1], B:wait())
		B:unmask(qs[1])
		A:send(ps[1])
		assert.are.equal(qs[1], B:wait(-1))
	end)

	it("events() drains without blocking, or waits first when given a timeout", function()
		local A, B = T.open(1), T.open(2)
		local ps, qs = channels(A, B, 3)
		local n = 0
		for _ in B:events() do
			n = n + 1
		end
		assert.are.equal(0, n)
		for i = 1, 3 do
			A:send(ps[i])
		end
		local seen = {}
		for port in B:events(100) do
			seen[#seen + 1] = port
			B:unmask(port)
		end
		table.sort(seen)
		local want = { qs[1], qs[2], qs[3] }
		table.sort(want)
		assert.are.same(want, seen)
		local waited = 0
		for _ in B:events(10) do
			waited = waited + 1
		end
		assert.are.equal(0, waited)
	end)

	it("an event latched while masked is delivered after unmask", function()
		local A, B = T.open(1), T.open(2)
		local ps, qs = channels(A, B, 1)
		A:send(ps[1])
		assert.are.equal(qs[1], B:pending())
		A:send(ps[1])
		assert.is_nil(B:wait(0))
		B:unmask(qs[1])
		assert.are.equal(qs[1], B:wait(1000))
	end)

	it("many events round-robin on many ports coalesce without loss", function()
		local A, B = T.open(1), T.open(2)
		local n = 200
		local ps, qs = channels(A, B, n)
		local want = {}
		for i = 1, n do
			want[qs[i]] = true
		end
		for _ = 1, 3 do
			for i = 1, n do
				A:send(ps[i])
			end
		end
		local got, count = {}, 0
		while true do
			local batch = B:pending_batch(64)
			if #batch == 0 then
				break
			end
			for _, port in ipairs(batch) do
				assert.is_nil(got[port])
				got[port] = true
				count = count + 1
			end
		end
		assert.are.equal(n, count)
		assert.are.same(want, got)
	end)

	it("constants", function()
		assert.are.equal(0x7FF0, evtchnx.DOMID_SELF)
		assert.are.equal(0x7FF0, evtchnx.DOMID_FIRST_RESERVED)
		assert.are.equal(131072, evtchnx.SIM_MAX_PORTS)
		assert.are.equal(64, evtchnx.SIM_MAX_DOMAINS)
		assert.are.equal(24, evtchnx.NR_VIRQS)
		assert.are.equal(1, evtchnx.OPEN_NO_SPAWN)
		assert.are.equal(2, evtchnx.OPEN_SINGLE_THREAD)
		local states = { "CLOSED", "UNBOUND", "INTERDOMAIN", "PIRQ", "VIRQ", "IPI" }
		for i, name in ipairs(states) do
			local v = evtchnx["STATE_" .. name]
			assert.are.equal(i - 1, v)
			assert.is_true(T.is_integer(v))
			assert.are.equal(name:lower(), evtchnx.state_names[v])
		end
		assert.is_true(T.is_integer(evtchnx.DOMID_SELF))
		assert.are.equal(evtchnx.HEADER_VERSION, evtchnx.version())
		assert.truthy(evtchnx.version():match("^%d+%.%d+%.%d+$"))
		assert.are.equal("string", type(evtchnx.strerror(-107)))
		assert.are.equal(evtchnx.strerror(107), evtchnx.strerror(-107))
	end)
end)
