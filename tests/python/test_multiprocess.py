# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""A shared lab ("sim:NAME") with the two ends of a channel in different
processes: ping-pong, asyncio, ports handed over by a toolstack, and a peer
that dies."""

import asyncio
import signal
import time

import pytest

import evtchnx
from evtchnx import State

from conftest import expect_line, spawn_python

# Guest side: joins the lab as domain 1, binds the port it is given, takes
# the event binding leaves pending, then answers N events.
ECHO_GUEST = """
import sys, evtchnx
lab, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with evtchnx.Handle(lab, domid=1) as h:
    q = h.bind_interdomain(0, port)
    assert h.wait(10) == q
    h.unmask(q)
    print("ready", q, flush=True)
    for _ in range(n):
        got = h.wait(10)
        assert got == q, got
        h.unmask(q)
        h.send(q)
    print("done", flush=True)
    sys.stdin.readline()
"""


def finish(proc, timeout=30):
    if proc.stdin:
        proc.stdin.close()
    try:
        rc = proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return rc


def test_ping_pong_across_processes(lab):
    n = 500
    with evtchnx.Handle(lab) as h:
        assert h.backend == "sim" and h.domid == 0
        p = h.alloc_unbound(1)
        guest = spawn_python(ECHO_GUEST, lab, str(p), str(n))
        try:
            line = expect_line(guest)
            assert line.startswith("ready ")
            q = int(line.split()[1])
            assert h.status(p)[:4] == (State.INTERDOMAIN, 0, 1, q)
            for _ in range(n):
                h.send(p)
                assert h.wait(10) == p
                h.unmask(p)
            assert expect_line(guest) == "done"
        finally:
            assert finish(guest) == 0


def test_asyncio_across_processes(lab):
    n = 300
    with evtchnx.Handle(lab) as h:
        p = h.alloc_unbound(1)
        guest = spawn_python(ECHO_GUEST, lab, str(p), str(n))
        try:
            assert expect_line(guest).startswith("ready ")

            async def main():
                h.send(p)
                count = 0
                async for port in h.events():
                    assert port == p
                    count += 1
                    if count == n:
                        return count
                    h.send(p)

            assert asyncio.run(asyncio.wait_for(main(), 60)) == n
            assert expect_line(guest) == "done"
        finally:
            assert finish(guest) == 0


TOOLSTACK_GUEST = """
import sys, evtchnx
lab, domid = sys.argv[1], int(sys.argv[2])
ports = [int(x) for x in sys.argv[3:]]
with evtchnx.Handle(lab, domid=domid) as h:
    for port in ports:
        h.adopt(port)
    for port in ports:
        h.send(port)
    print("sent", flush=True)
    sys.stdin.readline()
"""


def test_toolstack_hands_ports_to_guests(lab):
    """The control domain creates domains, allocates their ports before
    they run, and the guests adopt them (the example's pattern)."""
    guests = {3: None, 4: None}
    with evtchnx.Handle(lab) as dom0:
        expected = {}
        for domid in guests:
            dom0.domain_create(domid)
            gport = dom0.alloc_unbound(evtchnx.DOMID_SELF, dom=domid)
            mine = dom0.bind_interdomain(domid, gport)
            assert dom0.wait(5) == mine  # binding leaves it pending
            dom0.unmask(mine)
            expected[mine] = domid
            guests[domid] = spawn_python(TOOLSTACK_GUEST, lab, str(domid),
                                         str(gport))
        try:
            for proc in guests.values():
                assert expect_line(proc) == "sent"
            got = {}

            async def collect():
                async for port in dom0.events():
                    got[port] = dom0.status(port).remote_domid
                    if len(got) == len(expected):
                        return

            asyncio.run(asyncio.wait_for(collect(), 30))
            assert got == expected
        finally:
            for proc in guests.values():
                if proc is not None:
                    assert finish(proc) == 0
            for domid in guests:
                dom0.domain_destroy(domid)


def test_peer_death_unbinds(lab):
    """Case 10: killing the guest's process sends our end back to UNBOUND;
    we keep working."""
    with evtchnx.Handle(lab) as h:
        p = h.alloc_unbound(1)
        guest = spawn_python(ECHO_GUEST, lab, str(p), "1000000")
        try:
            assert expect_line(guest).startswith("ready ")
            h.send(p)
            assert h.wait(10) == p
            h.unmask(p)
            guest.send_signal(signal.SIGKILL)
            guest.wait(10)
            deadline = time.monotonic() + 20
            while h.status(p).state is not State.UNBOUND:
                assert time.monotonic() < deadline, "peer death not seen"
                time.sleep(0.02)
            st = h.status(p)
            assert st.remote_domid == 1
            h.send(p)  # dropped
            # Domain 1 was implicit: it is gone with its last handle.
            with pytest.raises(ProcessLookupError):
                h.status(1, dom=1)
            # The same port can be bound again by a new domain 1.
            guest2 = spawn_python(ECHO_GUEST, lab, str(p), "1")
            try:
                assert expect_line(guest2).startswith("ready ")
                h.send(p)
                assert h.wait(10) == p
                h.unmask(p)
                assert expect_line(guest2) == "done"
            finally:
                assert finish(guest2) == 0
        finally:
            if guest.poll() is None:
                guest.kill()
                guest.wait()


def test_same_lab_name_is_one_lab(lab):
    """Two handles of one process that name the same shared lab meet."""
    with evtchnx.Handle(lab) as a, evtchnx.Handle(lab, domid=5) as b:
        p = a.alloc_unbound(5)
        q = b.bind_interdomain(0, p)
        assert b.wait(5) == q
        assert a.status(p).remote_port == q
