-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- A shared lab with a second process (tests/lua/peer.lua, run by the same
-- interpreter): ping-pong across processes, a peer that closes, a peer
-- that is killed (docs/conformance.md, case 10), a peer that exits without
-- closing its handle.

local evtchnx = require "evtchnx"
local T = require "evtchnx_test"
local SELF = T.SELF

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."

-- Start peer.lua in a lab; returns the process and its "ready" fields.
local function start_peer(lab, domid, rdom, rport, mode, rounds)
	local cmd = ("exec %s %s %s %d %d %d %s %d"):format(T.q(T.interpreter()),
		T.q(here .. "/peer.lua"), T.q(lab), domid, rdom, rport, mode, rounds or 0)
	local p = T.spawn(cmd)
	local line = p.line()
	assert(line, "the peer said nothing")
	local q, pid = line:match("^ready (%d+) (%d+)$")
	if not q then
		local _, out = p.finish()
		error("the peer did not start: " .. out, 0)
	end
	return p, tonumber(q), tonumber(pid)
end

describe("shared lab with a second process", function()
	after_each(T.cleanup)

	it("ping-pong, then the peer closes and our end goes back to unbound", function()
		local lab = "sim:" .. T.unique("lua-lab")
		local A = T.open(1, lab)
		assert.are.equal("sim", A:backend())
		local p = A:alloc_unbound(SELF, 2)
		local rounds = 200
		local peer, q = start_peer(lab, 2, 1, p, "pong", rounds)
		local st = A:status(SELF, p)
		assert.are.equal(evtchnx.STATE_INTERDOMAIN, st.state)
		assert.are.equal(2, st.remote_domid)
		assert.are.equal(q, st.remote_port)
		-- the peer's "I am here" event
		assert.are.equal(p, A:wait(10000))
		A:unmask(p)
		for i = 1, rounds do
			A:send(p)
			local port = A:wait(10000)
			assert(port == p, "no answer at round " .. i)
			A:unmask(p)
		end
		assert.are.equal("closed", peer.line())
		-- evtchnx_close returns once the lab has applied it
		st = A:status(SELF, p)
		assert.are.equal(evtchnx.STATE_UNBOUND, st.state)
		assert.are.equal(2, st.remote_domid)
		local status, out = peer.finish()
		assert.are.equal(0, status, out)
		-- sending on the unbound survivor drops the event
		A:send(p)
		assert.is_nil(A:pending())
	end)

	it("case 10: the peer is killed; our end becomes unbound and we go on", function()
		local lab = "sim:" .. T.unique("lua-kill")
		local C = T.open(0, lab)
		local A = T.open(1, lab)
		local p = A:alloc_unbound(SELF, 2)
		local peer, q, pid = start_peer(lab, 2, 1, p, "hang")
		assert.are.equal(evtchnx.STATE_INTERDOMAIN, A:status(SELF, p).state)
		assert.is_true(T.sh("kill -9 " .. pid))
		local status = peer.finish()
		assert.are_not.equal(0, status)
		local st = T.eventually(function()
			local s = A:status(SELF, p)
			return s.state == evtchnx.STATE_UNBOUND and s
		end, 10000)
		assert.is_not_nil(st, "our end stayed interdomain after the peer died")
		assert.are.equal(2, st.remote_domid)
		-- domain 2 was implicit: destroyed with its last handle
		assert.is_truthy(T.eventually(function()
			local ok, err = pcall(C.status, C, 2, q)
			return not ok and evtchnx.is_error(err) and err.name == "ESRCH"
		end, 10000))
		-- we keep working
		A:send(p)
		local p2 = A:alloc_unbound(SELF, 3)
		assert.is_true(p2 >= 1)
		-- and the channel can be bound again by a new domain 2
		local peer2 = start_peer(lab, 2, 1, p, "pong", 3)
		assert.are.equal(p, A:wait(10000))
		A:unmask(p)
		for _ = 1, 3 do
			A:send(p)
			assert.are.equal(p, A:wait(10000))
			A:unmask(p)
		end
		assert.are.equal("closed", peer2.line())
		assert.are.equal(0, (peer2.finish()))
	end)

	it("a peer that exits without closing releases its ports, and exits cleanly", function()
		local lab = "sim:" .. T.unique("lua-leave")
		local A = T.open(1, lab)
		local p = A:alloc_unbound(SELF, 2)
		local peer = start_peer(lab, 2, 1, p, "leave")
		assert.are.equal("leaving", peer.line())
		local status, out = peer.finish()
		-- no crash in the finalizers at interpreter exit
		assert.are.equal(0, status, out)
		assert.is_nil(out:find("Segmentation", 1, true), out)
		local st = T.eventually(function()
			local s = A:status(SELF, p)
			return s.state == evtchnx.STATE_UNBOUND and s
		end, 10000)
		assert.is_not_nil(st)
	end)

	it("two processes see one lab: ports allocated by one are bound by the other", function()
		local lab = "sim:" .. T.unique("lua-two")
		local A = T.open(1, lab)
		-- a second handle of another domain in this process, same lab
		local B = T.open(2, lab)
		local p = A:alloc_unbound(SELF, 3)
		local peer = start_peer(lab, 3, 1, p, "pong", 1)
		assert.are.equal(p, A:wait(10000))
		A:unmask(p)
		A:send(p)
		assert.are.equal(p, A:wait(10000))
		A:unmask(p)
		assert.are.equal("closed", peer.line())
		assert.are.equal(0, (peer.finish()))
		-- B, in the same lab, sees A's port
		T.raises("evtchnx_status", "EPERM", B.status, B, 1, p)
		local C = T.open(0, lab)
		assert.are.equal(evtchnx.STATE_UNBOUND, C:status(1, p).state)
	end)
end)
