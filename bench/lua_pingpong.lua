-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- lua_pingpong.lua - blocking ping-pong across two processes from Lua,
-- against the same ping-pong in C (lua_pingpong_ref) measured in the same
-- run.  A benchmark, not a test: it prints figures and the ratio to the
-- target (Lua 5.4 <= 1.3 x C; LuaJIT reported).
--
-- Each side: h:wait(-1) -> h:unmask(port) -> h:send(port), the parent
-- (domain 1 of a fresh shared lab) timing n round trips after w warm-up
-- ones; the child (domain 2) is a second interpreter of the same kind.
--
--   lua5.4 bench/lua_pingpong.lua compare --build B [--ref PATH] [--lua54 PATH]
--          [--luajit PATH] [-n N] [-w W] [-r ROUNDS]
--       C, Lua 5.4 and LuaJIT interleaved in ROUNDS rounds; the medians
--       of the rounds are reported.  B is the build tree (modules in
--       B/lua/5.4 and B/lua/5.1, the C figure from B/bench/lua_pingpong_ref).
--   lua bench/lua_pingpong.lua run [-n N] [-w W]
--       one Lua measurement with this interpreter: "rtt_us=X n=N"
--   lua bench/lua_pingpong.lua child LAB PORT COUNT
--       the other side (started by run)
--
-- `cmake --build B --target bench-lua` runs the comparison.

local script = debug.getinfo(1, "S").source:match("^@(.*)$") or "bench/lua_pingpong.lua"

local function q(s)
	return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function pid()
	local f = assert(io.open("/proc/self/stat", "r"))
	local line = f:read("*l")
	f:close()
	return tonumber(line:match("^(%d+)"))
end

local function die(...)
	io.stderr:write("lua_pingpong: ", table.concat({ ... }, " "), "\n")
	os.exit(1)
end

local function options(args, first, defaults)
	local o = {}
	for k, v in pairs(defaults) do
		o[k] = v
	end
	local i = first
	while i <= #args do
		local k = args[i]:match("^%-%-?(.+)$")
		if not k or args[i + 1] == nil then
			die("bad argument", args[i])
		end
		o[k] = args[i + 1]
		i = i + 2
	end
	return o
end

-- ---- the two sides ---------------------------------------------------------

local function child(lab, port, count)
	local evtchnx = require "evtchnx"
	local h = evtchnx.open{ target = lab, domid = 2 }
	local q = h:bind_interdomain(1, port)
	-- the bind leaves q pending; then say "ready"
	local function pong()
		local r = h:wait(-1)
		if r ~= q then
			die("child: got", tostring(r))
		end
		h:unmask(q)
		h:send(q)
	end
	pong()
	for _ = 1, count do
		pong()
	end
	h:close()
end

local function run(n, w)
	local evtchnx = require "evtchnx"
	local interp = arg and arg[-1] or "lua"
	local lab = ("sim:luabench-%d"):format(pid())
	local h = evtchnx.open{ target = lab, domid = 1 }
	local p = h:alloc_unbound(evtchnx.DOMID_SELF, 2)
	local peer = assert(io.popen(("exec %s %s child %s %d %d"):format(q(interp), q(script),
		q(lab), p, n + w), "r"))
	if h:wait(10000) ~= p then
		die("the child did not start")
	end
	h:unmask(p)

	local wait, unmask, send = h.wait, h.unmask, h.send
	for _ = 1, w do
		send(h, p)
		wait(h, -1)
		unmask(h, p)
	end
	local t0 = evtchnx.monotonic()
	for _ = 1, n do
		send(h, p)
		if wait(h, -1) ~= p then
			die("unexpected port")
		end
		unmask(h, p)
	end
	local t1 = evtchnx.monotonic()
	peer:read("*a")
	peer:close()
	-- the cost of one call that makes no system call
	local calls = 200000
	local is_pending = h.is_pending
	local t2 = evtchnx.monotonic()
	for _ = 1, calls do
		is_pending(h, p)
	end
	local t3 = evtchnx.monotonic()
	h:close()
	print(("rtt_us=%.3f n=%d call_ns=%.1f"):format((t1 - t0) * 1e6 / n, n,
		(t3 - t2) * 1e9 / calls))
end

-- ---- the comparison ----------------------------------------------------------

local function median(t)
	table.sort(t)
	local m = #t
	if m % 2 == 1 then
		return t[(m + 1) / 2]
	end
	return (t[m / 2] + t[m / 2 + 1]) / 2
end

local function measure(cmd)
	local f = assert(io.popen(cmd .. " 2>&1; echo EXIT=$?", "r"))
	local out = f:read("*a")
	f:close()
	local v = out:match("rtt_us=([%d%.]+)")
	local c = out:match("call_ns=([%d%.]+)")
	if not v or not c or not out:match("EXIT=0") then
		die("failed: " .. cmd .. "\n" .. out)
	end
	return tonumber(v), tonumber(c)
end

local function compare(o)
	local build = o.build or die("compare needs --build B")
	local ref = o.ref or (build .. "/bench/lua_pingpong_ref")
	local n, w, rounds = tonumber(o.n), tonumber(o.w), tonumber(o.r)
	local function lua_cmd(interp, abi)
		local dir = build .. "/lua/" .. abi
		local lp, cp = dir .. "/?.lua;;", dir .. "/?.so;;"
		return ("env LUA_PATH=%s LUA_CPATH=%s LUA_PATH_5_4=%s LUA_CPATH_5_4=%s %s %s run -n %d -w %d")
			:format(q(lp), q(cp), q(lp), q(cp), q(interp), q(script), n, w)
	end
	local kinds = {
		{ name = "C", cmd = ("%s -n %d -w %d"):format(q(ref), n, w) },
	}
	if o.lua54 ~= "none" then
		kinds[#kinds + 1] = { name = "Lua 5.4", cmd = lua_cmd(o.lua54, "5.4") }
	end
	if o.luajit ~= "none" then
		kinds[#kinds + 1] = { name = "LuaJIT", cmd = lua_cmd(o.luajit, "5.1") }
	end
	for _, k in ipairs(kinds) do
		k.samples, k.calls = {}, {}
	end

	print(("lua_pingpong: blocking ping-pong across two processes (shared sim lab), "
		.. "%d round trips after %d warm-up, %d interleaved rounds"):format(n, w, rounds))
	for r = 1, rounds do
		local line = {}
		-- each round starts with another kind
		for j = 0, #kinds - 1 do
			local k = kinds[(r - 1 + j) % #kinds + 1]
			local v, c = measure(k.cmd)
			k.samples[#k.samples + 1] = v
			k.calls[#k.calls + 1] = c
			line[#line + 1] = ("%s %.2f"):format(k.name, v)
		end
		print(("  round %d: %s us"):format(r, table.concat(line, ", ")))
	end
	local c = median(kinds[1].samples)
	print(("  %-8s %8.2f us per round trip (median of rounds)"):format("C", c))
	local verdict = 0
	for i = 2, #kinds do
		local k = kinds[i]
		local m = median(k.samples)
		local ratio = m / c
		local target = ""
		if k.name == "Lua 5.4" then
			target = ratio <= 1.3 and "  (target <= 1.30: met)" or "  (target <= 1.30: MISSED)"
			verdict = ratio <= 1.3 and 0 or 1
		end
		print(("  %-8s %8.2f us per round trip, %.3f x C%s"):format(k.name, m, ratio, target))
	end
	local calls = {}
	for _, k in ipairs(kinds) do
		calls[#calls + 1] = ("%s %.0f ns"):format(k.name, median(k.calls))
	end
	print("  one call without a system call (is_pending): " .. table.concat(calls, ", "))
	-- The round-trip figures move with the machine's load; the per-call
	-- cost does not: a round trip is 6 calls (wait, unmask, send on each
	-- side), so this is what the binding itself adds.
	local c_call = median(kinds[1].calls)
	for i = 2, #kinds do
		local k = kinds[i]
		local extra = 6 * (median(k.calls) - c_call) / 1000
		print(("  %-8s binding overhead per round trip: 6 x %.0f ns = %.2f us = %.1f %% of C")
			:format(k.name, median(k.calls) - c_call, extra, 100 * extra / c))
	end
	return verdict
end

-- ---- main --------------------------------------------------------------------

local args = { ... }
local mode = args[1]
if mode == "child" then
	child(args[2], tonumber(args[3]), tonumber(args[4]))
elseif mode == "run" then
	local o = options(args, 2, { n = "20000", w = "2000" })
	run(tonumber(o.n), tonumber(o.w))
elseif mode == "compare" then
	local o = options(args, 2, { n = "20000", w = "2000", r = "5", lua54 = "lua5.4",
		luajit = "luajit" })
	compare(o)
	-- a report, not a test: the verdict is printed, the exit status is 0
else
	io.stderr:write("usage: lua_pingpong.lua compare --build B [--ref PATH] [--lua54 PATH]\n"
		.. "                          [--luajit PATH] [-n N] [-w W] [-r ROUNDS]\n"
		.. "       lua_pingpong.lua run [-n N] [-w W]\n")
	os.exit(2)
end
