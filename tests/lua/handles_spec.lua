-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- Handle objects: explicit close, close by the garbage collector, Lua 5.4
-- to-be-closed variables, tostring, and the interpreter under test.

local evtchnx = require "evtchnx"
local T = require "evtchnx_test"
local SELF = T.SELF

describe("handles", function()
	after_each(T.cleanup)

	it("run under the expected interpreter and module folder", function()
		local expect = os.getenv("EVTCHNX_LUA_EXPECT")
		if not expect or expect == "" then
			pending("EVTCHNX_LUA_EXPECT is not set")
			return
		end
		local found = package.searchpath("evtchnx_core", package.cpath)
		if expect == "luajit" then
			assert.is_not_nil(jit, "expected LuaJIT, got " .. _VERSION)
			assert.are.equal("Lua 5.1", _VERSION)
			assert.truthy(found:find("/5.1/", 1, true), found)
		else
			assert.is_nil(jit)
			assert.are.equal("Lua " .. expect, _VERSION)
			assert.truthy(found:find("/" .. expect .. "/", 1, true), found)
		end
		io.stderr:write(("\n[tests/lua running under %s, module %s]\n"):format(
			jit and jit.version or _VERSION, found))
	end)

	it("ports and domids are Lua integers", function()
		local A, B = T.open(1), T.open(2)
		local p = A:alloc_unbound(SELF, 2)
		local q = B:bind_interdomain(1, p)
		for _, v in ipairs{ p, q, B:pending(), A:domid(), A:fd(),
			A:status(SELF, p).remote_port } do
			assert.is_true(T.is_integer(v))
			if math.type then
				assert.are.equal("integer", math.type(v))
			end
			-- an integer prints without a fractional part
			assert.is_nil(tostring(v):find("%."))
		end
	end)

	it("close is idempotent and is_closed tells", function()
		local h = evtchnx.open{ target = "sim", domid = 1 }
		assert.is_false(h:is_closed())
		h:close()
		assert.is_true(h:is_closed())
		h:close()
		assert.is_true(h:is_closed())
	end)

	it("tostring and type checks", function()
		local h = T.open(1)
		assert.are.equal("evtchnx.handle (sim, domid 1)", tostring(h))
		assert.is_true(evtchnx.is_handle(h))
		assert.is_false(evtchnx.is_handle({}))
		assert.is_false(evtchnx.is_handle(io.stdout))
		assert.is_false(evtchnx.is_handle(nil))
		-- the metatable is not handed out
		assert.are.equal(false, getmetatable(h))
		h:close()
		assert.are.equal("evtchnx.handle (closed)", tostring(h))
		assert.is_true(evtchnx.is_handle(h))
	end)

	it("open with a target string and an options table", function()
		local h = evtchnx.open("sim", { domid = 3 })
		assert.are.equal(3, h:domid())
		h:close()
		h = evtchnx.open("sim")
		assert.are.equal(0, h:domid())
		h:close()
		h = evtchnx.open{ target = "sim" }
		assert.are.equal(0, h:domid())
		h:close()
	end)

	it("a handle dropped without close is closed by the garbage collector", function()
		local A = T.open(1)
		local p = A:alloc_unbound(SELF, 2)
		-- (in a function of its own: a dead local of the running function
		-- may still sit in one of its registers, which the collector marks)
		local function bind_and_drop()
			local B = evtchnx.open{ target = "sim", domid = 2 }
			B:bind_interdomain(1, p)
		end
		bind_and_drop()
		assert.are.equal(evtchnx.STATE_INTERDOMAIN, A:status(SELF, p).state)
		collectgarbage("collect")
		collectgarbage("collect")
		local st = A:status(SELF, p)
		assert.are.equal(evtchnx.STATE_UNBOUND, st.state)
		assert.are.equal(2, st.remote_domid)
		-- domain 2 was implicit: gone with its last handle
		local C = T.open(0)
		T.raises("evtchnx_status", "ESRCH", C.status, C, 2, 1)
	end)

	it("a closed handle collected later is not closed twice", function()
		for _ = 1, 50 do
			local h = evtchnx.open{ target = "sim", domid = 4 }
			h:alloc_unbound(SELF, 0)
			h:close()
		end
		collectgarbage("collect")
		collectgarbage("collect")
		local h = T.open(4)
		assert.are.equal(1, h:alloc_unbound(SELF, 0))
	end)

	it("many handles left to the collector are all released", function()
		local function open_and_drop()
			local h = evtchnx.open{ target = "sim", domid = 5 }
			h:alloc_unbound(SELF, 0)
		end
		for i = 1, 300 do
			open_and_drop()
			if i % 50 == 0 then
				collectgarbage("collect")
			end
		end
		collectgarbage("collect")
		collectgarbage("collect")
		local C = T.open(0)
		T.raises("evtchnx_status", "ESRCH", C.status, C, 5, 1)
	end)

	it("Lua 5.4 to-be-closed variables close the handle", function()
		if _VERSION ~= "Lua 5.4" then
			pending("to-be-closed variables need Lua 5.4")
			return
		end
		local A = T.open(1)
		local p = A:alloc_unbound(SELF, 2)
		-- compiled at run time: LuaJIT cannot parse <close>
		local chunk = assert(load([[
			local evtchnx, p = ...
			local saved
			do
				local B <close> = evtchnx.open{ target = "sim", domid = 2 }
				B:bind_interdomain(1, p)
				saved = B
			end
			return saved
		]]))
		local B = chunk(evtchnx, p)
		assert.is_true(B:is_closed())
		assert.are.equal(evtchnx.STATE_UNBOUND, A:status(SELF, p).state)
		-- also when the block is left by an error
		local ok, err = pcall(assert(load([[
			local evtchnx, p, out = ...
			local B <close> = evtchnx.open{ target = "sim", domid = 2 }
			out.h = B
			B:bind_interdomain(1, p)
			error("boom")
		]])), evtchnx, p, {})
		assert.is_false(ok)
		assert.truthy(tostring(err):find("boom", 1, true))
		assert.are.equal(evtchnx.STATE_UNBOUND, A:status(SELF, p).state)
	end)
end)
