-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- guest.lua - the Lua guest of the cross-language demo (demo.py starts it).
--
--   lua5.4 guest.lua LAB DOMID DOM0-PORT PEER-DOM PEER-PORT ROUNDS T0 REPORT
--
-- As domain DOMID of the shared lab LAB it binds to DOM0-PORT of domain 0
-- and to PEER-PORT of domain PEER-DOM (a port dom0 allocated there for us),
-- takes the events new binds leave pending, and says "ready" to dom0.
-- Then it answers every event, from dom0 or from the peer, on the port it
-- came in on: ROUNDS pings from dom0 and ROUNDS from the peer.  Dom0's next
-- event means "leave": it writes its counts to REPORT (one line of JSON)
-- and closes its handle, which turns the other ends of its channels back
-- to unbound.
--
-- Needs evtchnx.lua and evtchnx_core.so on LUA_PATH/LUA_CPATH.

local evtchnx = require "evtchnx"

local lab, domid, dom0_port, peer_dom, peer_port, rounds, t0, report = ...
domid, dom0_port = tonumber(domid), tonumber(dom0_port)
peer_dom, peer_port, rounds, t0 = tonumber(peer_dom), tonumber(peer_port), tonumber(rounds), tonumber(t0)
if not report then
	io.stderr:write("usage: guest.lua LAB DOMID DOM0-PORT PEER-DOM PEER-PORT ROUNDS T0 REPORT\n",
		"(started by examples/demo/demo.py)\n")
	os.exit(2)
end

local TIMEOUT_MS = 10000
local pid = "-"
do -- our pid, for the timeline (Lua has no getpid)
	local f = io.open("/proc/self/stat")
	if f then
		pid = f:read("*l"):match("^(%d+)") or "-"
		f:close()
	end
end

local function trace(fmt, ...)
	io.write(("%9.1f  dom%d Lua  %-7s  "):format((evtchnx.monotonic() - t0) * 1e3, domid, pid),
		fmt:format(...), "\n")
	io.flush()
end

local function die(fmt, ...)
	io.stderr:write(("dom%d Lua guest: "):format(domid), fmt:format(...), "\n")
	os.exit(1)
end

local h = evtchnx.open{ target = lab, domid = domid }
trace('open("%s", dom%d)  its own handle, in a process of its own', lab, domid)
local to_dom0 = h:bind_interdomain(0, dom0_port)
trace("bind_interdomain(0, %d) -> %d  its channel to dom0", dom0_port, to_dom0)
local to_peer = h:bind_interdomain(peer_dom, peer_port)
trace("bind_interdomain(%d, %d) -> %d  its channel to dom%d", peer_dom, peer_port, to_peer,
	peer_dom)
-- New binds leave their ports pending, as on Xen: not messages.
local spurious = 0
for port in h:events(0) do
	h:unmask(port)
	spurious = spurious + 1
end
trace("pending() x%d, unmask          spurious: each new bind leaves its port pending",
	spurious)
h:send(to_dom0)
trace('send(%d) -> 0                  "ready", to dom0', to_dom0)

local sent = { [0] = 1, [peer_dom] = 0 }
local received = { [0] = 0, [peer_dom] = 0 }
local from = { [to_dom0] = 0, [to_peer] = peer_dom }
-- Answer pings until dom0's (rounds + 1)-th event: "leave".
while true do
	local port = h:wait(TIMEOUT_MS)
	if port == nil then
		die("no event within %d ms (from dom0: %d, from dom%d: %d)", TIMEOUT_MS,
			received[0], peer_dom, received[peer_dom])
	end
	h:unmask(port)
	local who = from[port]
	if who == nil then
		die("an event on port %d, which is none of my channels", port)
	end
	received[who] = received[who] + 1
	if who == 0 and received[0] == rounds + 1 then
		break
	end
	h:send(port)
	sent[who] = sent[who] + 1
	if received[who] == rounds then
		trace("answered %d pings from dom%d on port %d", rounds, who, port)
	end
end
trace("dom0 says leave")

local f = assert(io.open(report, "w"))
f:write(('{"dom":%d,"sent":{"0":%d,"%d":%d},"received":{"0":%d,"%d":%d}}\n'):format(domid,
	sent[0], peer_dom, sent[peer_dom], received[0], peer_dom, received[peer_dom]))
assert(f:close())
trace("leaving: sent %d, received %d events; closing the handle", sent[0] + sent[peer_dom],
	received[0] + received[peer_dom])
h:close()
