-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- evtchnx_test.lua - functions shared by the busted specs in tests/lua.
--
-- Every handle a test opens through T.open() is closed by T.cleanup()
-- (after_each), so the private lab "sim" of the test process starts each
-- test with only the control domain.

local evtchnx = require "evtchnx"
local assert = require "luassert"

local T = {}

T.SELF = evtchnx.DOMID_SELF

local opened = {}

-- Open a handle on the private lab (or @target) as @domid.
function T.open(domid, target, extra)
	local opts = { target = target or "sim", domid = domid }
	for k, v in pairs(extra or {}) do
		opts[k] = v
	end
	local h = evtchnx.open(opts)
	opened[#opened + 1] = h
	return h
end

-- Explicitly created domains to destroy in cleanup: { [domid] = control }
local created = {}

function T.domain_create(control, domid)
	control:domain_create(domid)
	created[domid] = control
end

function T.cleanup()
	for i = #opened, 1, -1 do
		opened[i]:close()
	end
	opened = {}
	for domid, control in pairs(created) do
		if not control:is_closed() then
			pcall(control.domain_destroy, control, domid)
		else
			local c = evtchnx.open{ target = "sim", domid = 0 }
			pcall(c.domain_destroy, c, domid)
			c:close()
		end
	end
	created = {}
end

-- The process id of this interpreter.
function T.pid()
	local f = assert(io.open("/proc/self/stat", "r"))
	local line = f:read("*l")
	f:close()
	return tonumber(line:match("^(%d+)"))
end

-- A lab name no other test (or test run) uses.
local seq = 0
function T.unique(prefix)
	seq = seq + 1
	if not T._seeded then
		math.randomseed(os.time() + T.pid())
		T._seeded = true
	end
	return ("%s-%d-%d-%d"):format(prefix, T.pid(), seq, math.random(1, 1e6))
end

-- The interpreter running the tests (for child processes).
function T.interpreter()
	local i = os.getenv("EVTCHNX_LUA_INTERP")
	if i and i ~= "" then
		return i
	end
	return jit and "luajit" or "lua5.4"
end

function T.is_integer(v)
	if math.type then
		return math.type(v) == "integer"
	end
	return type(v) == "number" and v == math.floor(v)
end

-- Assert that fn(...) raises the library's error object for @call with
-- errno @name; returns the error object.
function T.raises(call, name, fn, ...)
	local ok, err = pcall(fn, ...)
	assert(not ok, ("%s: expected %s, but the call succeeded"):format(call, name))
	assert(evtchnx.is_error(err),
		("%s: expected an evtchnx error object, got %s"):format(call, tostring(err)))
	assert.are.equal(call, err.call)
	assert.are.equal(name, err.name,
		("%s: expected %s, got %s (%s)"):format(call, name, tostring(err.name),
			tostring(err)))
	assert.are.equal(evtchnx.errno[name], err.errno)
	assert.is_true(T.is_integer(err.errno))
	assert.are.equal(err.message, tostring(err))
	local prefix = call .. ": "
	assert.are.equal(prefix, err.message:sub(1, #prefix))
	assert.truthy(err.message:find("(errno " .. err.errno .. ")", 1, true))
	return err
end

-- Assert that fn(...) raises a plain (string) argument error.
function T.argerror(fn, ...)
	local ok, err = pcall(fn, ...)
	assert(not ok, "expected an argument error, but the call succeeded")
	assert.are.equal("string", type(err), "expected a string error, got " .. tostring(err))
	return err
end

-- Sleep about @ms milliseconds (a timed wait on a scratch handle).
function T.sleep(ms)
	local h = evtchnx.open{ target = "sim", domid = 0 }
	h:wait(ms)
	h:close()
end

-- Poll @fn every 20 ms until it returns a true value or @timeout_ms pass.
function T.eventually(fn, timeout_ms)
	local waited = 0
	while true do
		local v = fn()
		if v then
			return v
		end
		if waited >= (timeout_ms or 10000) then
			return nil
		end
		T.sleep(20)
		waited = waited + 20
	end
end

-- Take every pending port of @h (unmasking each): returns a set.
function T.drain(h)
	local got = {}
	for port in h:events() do
		got[port] = true
		h:unmask(port)
	end
	return got
end

-- Spawn a shell command with its output read line by line; the last line
-- is "EXIT=<status>" (io.popen's close cannot report it on LuaJIT).
function T.spawn(cmd)
	-- (the outer 2>/dev/null silences the shell's "Killed" notices)
	local f = assert(io.popen("{ (" .. cmd .. ") 2>&1; echo EXIT=$?; } 2>/dev/null", "r"))
	local p = { f = f, lines = {} }
	-- next line of output, or nil at the end
	function p.line()
		local l = f:read("*l")
		if l then
			p.lines[#p.lines + 1] = l
			if l:match("^EXIT=") then
				p.status = tonumber(l:match("^EXIT=(%d+)"))
			end
		end
		return l
	end
	-- read up to the end: exit status, all output
	function p.finish()
		while p.line() do
		end
		f:close()
		return p.status, table.concat(p.lines, "\n")
	end
	return p
end

-- Run a shell command: true when it exited with status 0.
function T.sh(cmd)
	local r = os.execute(cmd)
	return r == true or r == 0
end

-- Shell-quote a string.
function T.q(s)
	return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

return T
