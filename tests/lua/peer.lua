-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- peer.lua - the second process of lab_spec.lua.  Joins a shared lab as a
-- domain, binds the channel its parent offered, and plays one part:
--
--   lua peer.lua LAB DOMID REMOTE_DOMID REMOTE_PORT MODE [ROUNDS]
--
--   pong   answer ROUNDS events, then close the handle and say "closed"
--   hang   bind, then wait (the parent kills this process)
--   leave  bind, then exit without closing: the interpreter's exit
--          collects the handle
--
-- Prints "ready PORT PID" once bound; every wait is bounded (10 s), so a
-- lost parent never leaves this process behind.

local evtchnx = require "evtchnx"

local lab, domid, rdom, rport, mode, rounds = ...
domid, rdom, rport = tonumber(domid), tonumber(rdom), tonumber(rport)
rounds = tonumber(rounds or "0")

local function pid()
	local f = assert(io.open("/proc/self/stat", "r"))
	local line = f:read("*l")
	f:close()
	return tonumber(line:match("^(%d+)"))
end

local function say(...)
	io.stdout:write(table.concat({ ... }, " "), "\n")
	io.stdout:flush()
end

local h = evtchnx.open{ target = lab, domid = domid }
local q = h:bind_interdomain(rdom, rport)
-- the bind leaves q pending: take that event
assert(h:wait(10000) == q, "the bound port was not pending")
h:unmask(q)
say("ready", q, pid())

if mode == "pong" then
	-- tell the parent we are there, then answer every event
	h:send(q)
	for i = 1, rounds do
		local port = h:wait(10000)
		if port ~= q then
			say("timeout at round", i)
			os.exit(1)
		end
		h:unmask(q)
		h:send(q)
	end
	h:close()
	say("closed")
elseif mode == "hang" then
	h:wait(30000)
	say("not killed")
	os.exit(1)
elseif mode == "leave" then
	say("leaving")
	-- no close: the handle is collected when the interpreter exits
else
	say("unknown mode", tostring(mode))
	os.exit(2)
end
