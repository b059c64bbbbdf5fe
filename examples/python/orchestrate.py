#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""A control domain in miniature: create three guests in a shared sim lab,
allocate each guest's port before it runs, start the guests as processes
(handing them their port numbers), wait for their events with asyncio,
acknowledge each one, and report the channels' status.

    PYTHONPATH=BUILD/python /usr/bin/python3 examples/python/orchestrate.py
"""

import asyncio
import os
import subprocess
import sys

import evtchnx

GUESTS = (1, 2, 3)


def guest(lab: str, domid: int, port: int) -> None:
    """A guest: adopt the port the toolstack made, say hello, await the
    acknowledgement, leave."""
    with evtchnx.Handle(lab, domid=domid) as h:
        h.adopt(port)
        h.send(port)
        if h.wait(10) != port:
            sys.exit(f"guest {domid}: no acknowledgement")


async def control(lab: str) -> None:
    with evtchnx.Handle(lab) as dom0:          # domain 0, the control domain
        mine = {}                              # our port -> guest domid
        theirs = {}                            # guest domid -> its port
        for domid in GUESTS:
            dom0.domain_create(domid)
            theirs[domid] = dom0.alloc_unbound(evtchnx.DOMID_SELF, dom=domid)
            mine[dom0.bind_interdomain(domid, theirs[domid])] = domid
        for _ in dom0:                          # binding leaves ports pending
            pass
        procs = [subprocess.Popen([sys.executable, __file__, lab, str(d),
                                   str(p)]) for d, p in theirs.items()]
        said_hello = set()
        async for port in dom0.events():       # drains all ports per wake-up
            print(f"event from guest {mine[port]} on port {port}")
            dom0.send(port)                    # acknowledge
            said_hello.add(port)
            if said_hello == set(mine):
                break
        for proc in procs:
            proc.wait(10)
        for port, domid in sorted(mine.items()):
            st = dom0.status(port)
            gone = " (guest has left)" if st.state is evtchnx.State.UNBOUND else ""
            print(f"guest {domid}: port {port} is {st.state.name.lower()}, "
                  f"remote domain {st.remote_domid}{gone}")
            dom0.domain_destroy(domid)


if __name__ == "__main__":
    if len(sys.argv) == 4:
        guest(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    else:
        asyncio.run(asyncio.wait_for(control(f"sim:orchestrate-{os.getpid()}"), 60))
