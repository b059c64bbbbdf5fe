-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- The batch calls through Lua: arrays in and out, the same ports as the
-- single calls, errors that keep the part done; and the open option
-- busy_poll_ns.

local evtchnx = require "evtchnx"
local T = require "evtchnx_test"
local SELF = T.SELF

local function states(h, dom, ports)
	local out = {}
	for i, st in ipairs(h:status_batch(dom, ports)) do
		out[i] = st.state_name
	end
	return out
end

describe("batches", function()
	after_each(T.cleanup)

	it("alloc_unbound_batch gives the single calls' ports", function()
		local A = T.open(1)
		assert.are.same({ 1, 2, 3, 4, 5 }, A:alloc_unbound_batch(SELF, 2, 5))
		A:unbind(3)
		assert.are.same({ 3, 6 }, A:alloc_unbound_batch(SELF, 2, 2))
		assert.are.same({}, A:alloc_unbound_batch(SELF, 2, 0))
		for _, p in ipairs(A:alloc_unbound_batch(SELF, 2, 2)) do
			assert.is_true(T.is_integer(p))
		end
	end)

	it("bind, status, unmask and unbind in batches", function()
		local A, B = T.open(1), T.open(2)
		local ps = A:alloc_unbound_batch(SELF, 2, 3)
		local qs = B:bind_interdomain_batch(1, ps)
		assert.are.same({ 1, 2, 3 }, qs)
		local got = B:pending_batch(10) -- each bind leaves its port pending
		table.sort(got)
		assert.are.same(qs, got)
		local st = A:status_batch(1, ps)
		for i = 1, 3 do
			assert.are.same(A:status(SELF, ps[i]), st[i])
			assert.are.equal("interdomain", st[i].state_name)
			assert.are.equal(qs[i], st[i].remote_port)
		end
		A:send(ps[2])
		assert.is_nil(B:pending())
		assert.are.equal(3, B:unmask_batch(qs))
		assert.are.same({ qs[2] }, B:pending_batch(10))
		assert.are.equal(0, B:unmask_batch({}))
		assert.are.equal(3, B:unbind_batch(qs))
		assert.are.same({ "unbound", "unbound", "unbound" }, states(A, SELF, ps))
	end)

	it("a failing element raises with the part done", function()
		local A = T.open(1)
		local ps = A:alloc_unbound_batch(SELF, 2, 3)
		local err = T.raises("evtchnx_unbind_batch", "ENOTCONN", A.unbind_batch,
			A, { ps[1], ps[2], 4000, ps[3] })
		assert.are.equal(2, err.done)
		assert.are.equal(3, err.index)
		assert.are.equal(4000, err.port)
		assert.are.same({ ps[1], ps[2] }, err.ports)
		assert.truthy(err.message:find("element 3 of 4 (port 4000)", 1, true))
		assert.are.same({ "closed", "closed", "unbound" }, states(A, SELF, ps))
		-- The first element: the single call's error, nothing done.
		err = T.raises("evtchnx_unbind_batch", "EINVAL", A.unbind_batch, A,
			{ 0, ps[3] })
		assert.are.equal(0, err.done)
		assert.are.same({}, err.ports)
		T.raises("evtchnx_unbind", "EINVAL", A.unbind, A, 0)
	end)

	it("a failed bind keeps the ports it bound", function()
		local A, B = T.open(1), T.open(2)
		local ps = A:alloc_unbound_batch(SELF, 2, 2)
		local err = T.raises("evtchnx_bind_interdomain_batch", "EINVAL",
			B.bind_interdomain_batch, B, 1, { ps[1], 777, ps[2] })
		assert.are.equal(1, err.done)
		assert.are.equal(1, #err.ports)
		assert.are.equal(ps[1], B:status(SELF, err.ports[1]).remote_port)
	end)

	it("a domain that runs out keeps the ports allocated", function()
		local C = T.open(0)
		T.domain_create(C, 13)
		local n = evtchnx.SIM_MAX_PORTS - 3
		local all = C:alloc_unbound_batch(13, 0, n)
		assert.are.equal(n, #all)
		local err = T.raises("evtchnx_alloc_unbound_batch", "ENOSPC",
			C.alloc_unbound_batch, C, 13, 0, 5)
		assert.are.equal(2, err.done)
		assert.are.same({ n + 1, n + 2 }, err.ports)
		assert.is_nil(err.port)
	end)

	it("status_batch keeps the statuses before the failure", function()
		local A = T.open(1)
		local ps = A:alloc_unbound_batch(SELF, 2, 2)
		local err = T.raises("evtchnx_status_batch", "EINVAL", A.status_batch,
			A, SELF, { ps[1], ps[2], evtchnx.SIM_MAX_PORTS })
		assert.are.equal(2, err.done)
		assert.are.same(ps, err.ports)
		assert.are.same(A:status(SELF, ps[2]), err.statuses[2])
		T.raises("evtchnx_status_batch", "EPERM", A.status_batch, A, 0, { 1 })
	end)

	it("bad arguments are Lua errors, before C", function()
		local A = T.open(1)
		for _, bad in ipairs({ "1", 1.5, -1, 131073, true }) do
			T.argerror(A.alloc_unbound_batch, A, SELF, 2, bad)
		end
		T.argerror(A.alloc_unbound_batch, A, SELF, 2)
		T.argerror(A.unbind_batch, A, 7)
		T.argerror(A.unbind_batch, A, nil)
		T.argerror(A.unbind_batch, A, {}, {})
		local msg = T.argerror(A.unmask_batch, A, { 1, "2" })
		assert.truthy(msg:find("element 2", 1, true), msg)
		T.argerror(A.status_batch, A, SELF, { -1 })
		T.argerror(A.status_batch, A, -1, { 1 })
		T.argerror(A.bind_interdomain_batch, A, 0, { 2 ^ 32 })
		T.argerror(A.unbind_batch, io.stdout, { 1 })
	end)
end)

describe("busy_poll_ns", function()
	after_each(T.cleanup)

	it("is checked", function()
		T.raises("evtchnx_open", "EINVAL", evtchnx.open,
			{ target = "sim", domid = 1, busy_poll_ns = 1000000001 })
		for _, bad in ipairs({ -1, 0.5, "1" }) do
			T.argerror(evtchnx.open, { target = "sim", busy_poll_ns = bad })
		end
	end)

	it("wait still returns events and times out", function()
		local A = T.open(1, nil, { busy_poll_ns = 1000000000 })
		local B = T.open(2, nil, { busy_poll_ns = 200000 })
		local p = A:alloc_unbound(2)
		local q = B:bind_interdomain(1, p)
		assert.are.equal(q, B:wait(1000))
		B:unmask(q)
		assert.is_nil(B:wait(10))
		A:send(p)
		assert.are.equal(q, B:wait(5000))
	end)
end)
