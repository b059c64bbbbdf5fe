-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- runner.lua - set up the channels a configuration declares (see
-- channels.lua) in a lab, then drive them: each guest notifies its remote
-- end `rounds` times and the remote end reacts as configured.
--
--   lua5.4 runner.lua [channels.lua]      (or luajit runner.lua ...)
--
-- As a module: require("runner").run(config [, log]) returns a summary
-- table { [name] = { events = n, replies = n } } or raises an error.
--
-- Needs evtchnx.lua and evtchnx_core.so on the search paths, e.g. from a
-- build tree B:
--   LUA_PATH="B/lua/5.4/?.lua;;" LUA_CPATH="B/lua/5.4/?.so;;" lua5.4 runner.lua

local evtchnx = require "evtchnx"

local M = {}

local function is_domid(v)
	return type(v) == "number" and v >= 0 and v < evtchnx.DOMID_FIRST_RESERVED
		and v == math.floor(v)
end

local function check_config(cfg)
	assert(type(cfg) == "table", "the configuration must return a table")
	assert(type(cfg.channels) == "table" and #cfg.channels > 0,
		"the configuration needs a non-empty 'channels' list")
	for i, ch in ipairs(cfg.channels) do
		local where = ("channel %d (%s)"):format(i, tostring(ch.name))
		assert(type(ch.name) == "string", where .. ": 'name' must be a string")
		assert(is_domid(ch.guest), where .. ": 'guest' must be a domid")
		assert(is_domid(ch.remote), where .. ": 'remote' must be a domid")
		assert(ch.guest ~= ch.remote, where .. ": guest and remote must differ")
		local a = ch.on_event
		assert(a == "echo" or a == "log" or type(a) == "function",
			where .. ": 'on_event' must be \"echo\", \"log\" or a function")
	end
end

function M.run(cfg, log)
	check_config(cfg)
	log = log or function(s) io.write(s, "\n") end
	local function logf(fmt, ...) log(fmt:format(...)) end
	local target = cfg.lab or "sim"
	local rounds = cfg.rounds or 3

	-- One handle per domain; a domain other than the control domain 0
	-- comes into being when its first handle joins the lab.
	local handles, order = {}, {}
	local function handle(domid)
		if not handles[domid] then
			handles[domid] = evtchnx.open{ target = target, domid = domid }
			order[#order + 1] = domid
		end
		return handles[domid]
	end
	local function close_all()
		for _, d in ipairs(order) do
			handles[d]:close()
		end
	end

	local ok, result = pcall(function()
		-- route[domid][port] = { ch = channel state, side = "guest"|"remote" }
		local route, chans = {}, {}
		for _, ch in ipairs(cfg.channels) do
			local g, r = handle(ch.guest), handle(ch.remote)
			local gp = g:alloc_unbound(evtchnx.DOMID_SELF, ch.remote)
			local rp = r:bind_interdomain(ch.guest, gp)
			local st = { cfg = ch, gport = gp, rport = rp, events = 0, replies = 0,
				awaiting_reply = false }
			route[ch.guest] = route[ch.guest] or {}
			route[ch.remote] = route[ch.remote] or {}
			route[ch.guest][gp] = { ch = st, side = "guest" }
			route[ch.remote][rp] = { ch = st, side = "remote" }
			chans[#chans + 1] = st
			logf("%-8s guest %d port %d <-> remote %d port %d", ch.name,
				ch.guest, gp, ch.remote, rp)
		end
		-- bind_interdomain leaves the new port pending (as on Xen):
		-- take those events before the run starts.
		for _, d in ipairs(order) do
			for port in handles[d]:events() do
				handles[d]:unmask(port)
			end
		end

		local function kick(st)
			handles[st.cfg.guest]:send(st.gport)
		end
		local function finished(st)
			return st.events >= rounds and not st.awaiting_reply
		end

		local function on_remote(st)
			st.events = st.events + 1
			local replied = false
			local ev = {
				channel = st.cfg.name,
				count = st.events,
				port = st.rport,
				domid = st.cfg.remote,
			}
			function ev.reply()
				if not replied then
					replied = true
					st.awaiting_reply = true
					handles[st.cfg.remote]:send(st.rport)
				end
			end
			function ev.log(_, fmt, ...)
				logf("%-8s " .. fmt, st.cfg.name, ...)
			end
			local a = st.cfg.on_event
			if a == "echo" then
				ev:log("request %d, answered", st.events)
				ev:reply()
			elseif a == "log" then
				ev:log("event %d", st.events)
			else
				a(ev)
			end
			if not replied and st.events < rounds then
				kick(st)
			end
		end

		local function on_guest(st)
			st.replies = st.replies + 1
			st.awaiting_reply = false
			if st.events < rounds then
				kick(st)
			end
		end

		-- Every taken port is unmasked at once (further events on it
		-- are delivered again), then handed to its channel.
		local function dispatch(d, port)
			handles[d]:unmask(port)
			local rt = route[d][port]
			if rt and rt.side == "remote" then
				on_remote(rt.ch)
			elseif rt then
				on_guest(rt.ch)
			end
		end

		for _, st in ipairs(chans) do
			kick(st)
		end

		-- The event loop: take what is pending on every handle; when
		-- nothing was, block a little on one of them.  Bounded: a
		-- configuration that never finishes is an error, not a hang.
		local last_event, turn = evtchnx.monotonic(), 1
		while true do
			local all_done = true
			for _, st in ipairs(chans) do
				if not finished(st) then
					all_done = false
				end
			end
			if all_done then
				break
			end
			local any = false
			for _, d in ipairs(order) do
				for port in handles[d]:events() do
					any = true
					dispatch(d, port)
				end
			end
			if not any then
				local d = order[turn]
				turn = turn % #order + 1
				local port = handles[d]:wait(10)
				if port then
					any = true
					dispatch(d, port)
				end
			end
			if any then
				last_event = evtchnx.monotonic()
			elseif evtchnx.monotonic() - last_event > 5 then
				error("no event for 5 s: the channels are stuck", 0)
			end
		end

		local summary = {}
		for _, st in ipairs(chans) do
			summary[st.cfg.name] = { events = st.events, replies = st.replies }
			logf("%-8s done: %d events, %d replies", st.cfg.name, st.events,
				st.replies)
		end
		return summary
	end)
	close_all()
	if not ok then
		error(result, 0)
	end
	return result
end

-- Run as a script: lua runner.lua [config.lua]
local modname = ...
if modname ~= "runner" then
	local path = arg and arg[1] or "channels.lua"
	local chunk, err = loadfile(path)
	if not chunk then
		io.stderr:write("runner: ", err, "\n")
		os.exit(2)
	end
	local ok, res = pcall(function()
		return M.run(chunk())
	end)
	if not ok then
		io.stderr:write("runner: ", tostring(res), "\n")
		os.exit(1)
	end
	os.exit(0)
end

return M
