-- SPDX-License-Identifier: MIT
-- SPDX-FileCopyrightText: 2026 The evtchnx authors
--
-- channels.lua - a lab declared as data, the way Lua configuration files
-- are written: which guest offers a channel, which domain binds it, and
-- what happens when an event arrives.
--
-- runner.lua sets it up and runs it:
--   lua5.4 runner.lua channels.lua
-- and the embedding example does the same from C:
--   evtchnx-lua-embed channels.lua
--
-- Keys:
--   lab       "sim" (a private lab in this process) or "sim:NAME" (shared)
--   rounds    events each channel carries before the run ends
--   channels  one entry per channel:
--     name      a label for the log
--     guest     the domain that allocates the port (alloc_unbound)
--     remote    the domain that binds it (bind_interdomain)
--     on_event  what the remote end does with an event:
--                 "echo"  notify the guest back (a ping-pong)
--                 "log"   only log it
--                 a function(ev): ev.channel, ev.count, ev.port, ev.domid,
--                 ev:reply() notifies the guest, ev:log(fmt, ...) logs

return {
	lab = "sim",
	rounds = 3,
	channels = {
		-- a console ring in guest 1, served by the control domain
		{ name = "console", guest = 1, remote = 0, on_event = "log" },
		-- a store connection: every request gets an answer
		{ name = "xenstore", guest = 2, remote = 0, on_event = "echo" },
		-- a split network driver between two guests, with a custom
		-- handler: answer the odd events only
		{
			name = "netback",
			guest = 1,
			remote = 2,
			on_event = function(ev)
				ev:log("frame batch %d", ev.count)
				if ev.count % 2 == 1 then
					ev:reply()
				end
			end,
		},
	},
}
