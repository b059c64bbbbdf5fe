# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""The conformance cases of docs/conformance.md, through the Python binding
(domains A = 1, B = 2, D = 4, control domain C = 0, all in the private lab
"sim" of this process)."""

import errno

import pytest

import evtchnx
from evtchnx import DOMID_SELF, State

from conftest import readable


def test_1_alloc_unbound(handle):
    a = handle(domid=1)
    p = a.alloc_unbound(2)
    assert p >= 1
    st = a.status(p)
    assert st.state is State.UNBOUND
    assert st.remote_domid == 2
    assert isinstance(st, evtchnx.PortStatus)
    # First fit: the next allocation is the next port.
    p2 = a.alloc_unbound(2)
    assert p2 == p + 1


def test_2_bind_interdomain(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    p = a.alloc_unbound(2)
    q = b.bind_interdomain(1, p)
    assert q >= 1
    assert b.status(q)[:4] == (State.INTERDOMAIN, 0, 1, p)
    assert a.status(p)[:4] == (State.INTERDOMAIN, 0, 2, q)
    # The new local port is left pending.
    assert b.is_pending(q) is True
    assert readable(b, 5)
    assert b.pending() == q


def test_3_send_wakes_and_masks(channel):
    a, p, b, q = channel
    assert not readable(b)
    assert b.pending() is None
    a.send(p)
    assert readable(b, 5)
    assert b.pending() == q
    assert not readable(b)
    # q stays masked until unmasked: the next event is latched.
    a.send(p)
    assert b.is_pending(q)
    assert b.pending() is None
    assert not readable(b)
    b.unmask(q)
    assert readable(b, 5)
    assert b.pending() == q
    b.unmask(q)
    assert b.pending() is None


def test_4_events_coalesce(channel):
    a, p, b, q = channel
    a.send(p)
    a.send(p)
    a.send(p)
    assert b.wait(5) == q
    b.unmask(q)
    assert b.pending() is None
    assert b.wait(0) is None


def test_5_unbind_sends_peer_to_unbound(channel, handle):
    a, p, b, q = channel
    a.unbind(p)
    st = b.status(q)
    assert st.state is State.UNBOUND
    assert st.remote_domid == 1
    b.send(q)  # dropped, no error
    assert a.pending() is None
    assert b.pending() is None
    # The survivor can be bound again by the same remote domain.
    p2 = a.bind_interdomain(2, q)
    assert a.status(p2)[:4] == (State.INTERDOMAIN, 0, 2, q)


def test_6_bad_ports(channel):
    a, p, b, q = channel
    a.unbind(p)
    with pytest.raises(OSError) as ei:
        a.unbind(p)
    assert ei.value.errno == errno.ENOTCONN
    assert "evtchnx_unbind" in str(ei.value)
    with pytest.raises(OSError) as ei:
        a.unbind(0)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(OSError) as ei:
        a.send(0xFFFFFFFF)
    assert ei.value.errno == errno.EINVAL
    assert "evtchnx_send" in str(ei.value)


def test_7_alloc_on_behalf(handle):
    c = handle(domid=0)
    a = handle(domid=1)
    b = handle(domid=2)
    with pytest.raises(PermissionError) as ei:
        a.alloc_unbound(1, dom=2)
    assert ei.value.errno == errno.EPERM
    g = c.alloc_unbound(DOMID_SELF, dom=2)
    st = c.status(g, dom=2)
    assert st.state is State.UNBOUND
    assert st.remote_domid == 0  # the caller's domid, not b's
    # b does not own it until it adopts it.
    with pytest.raises(OSError) as ei:
        b.send(g)
    assert ei.value.errno == errno.ENOTCONN
    b.adopt(g)
    b.send(g)  # unbound: dropped
    with pytest.raises(OSError) as ei:
        b.adopt(g)
    assert ei.value.errno == errno.EBUSY


def test_8_bind_not_offered(handle):
    a = handle(domid=1)
    handle(domid=2)
    d = handle(domid=4)
    p = a.alloc_unbound(2)
    with pytest.raises(OSError) as ei:
        d.bind_interdomain(1, p)
    assert ei.value.errno == errno.EINVAL
    assert "evtchnx_bind_interdomain" in str(ei.value)
    assert a.status(p).state is State.UNBOUND


def test_9_loopback(handle):
    a = handle(domid=1)
    p1 = a.alloc_unbound(DOMID_SELF)
    p2 = a.bind_interdomain(DOMID_SELF, p1)
    assert a.wait(5) == p2
    a.unmask(p2)
    a.send(p1)
    assert a.wait(5) == p2
    a.unmask(p2)
    a.send(p2)
    assert a.wait(5) == p1
    a.unmask(p1)
    assert a.status(p1)[:4] == (State.INTERDOMAIN, 0, 1, p2)


def test_domid_self_is_not_a_wildcard(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    p = a.alloc_unbound(2)
    with pytest.raises(OSError) as ei:
        b.bind_interdomain(DOMID_SELF, p)
    assert ei.value.errno == errno.EINVAL


def test_event_sent_before_close_is_delivered(channel):
    a, p, b, q = channel
    a.send(p)
    a.unbind(p)
    assert b.wait(5) == q
    b.unmask(q)


def test_level_triggered_fd(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    ports = []
    for _ in range(3):
        p = a.alloc_unbound(2)
        ports.append((p, b.bind_interdomain(1, p)))
    got = sorted(b.pending_batch(10))
    assert got == sorted(q for _, q in ports)
    for _, q in ports:
        b.unmask(q)
    assert not readable(b)
    for p, _ in ports:
        a.send(p)
    # Readable exactly while pending() would return a port.
    seen = []
    while readable(b, 5):
        port = b.pending()
        assert port is not None
        seen.append(port)
        if len(seen) == 3:
            break
    assert not readable(b)
    assert b.pending() is None
    assert sorted(seen) == sorted(q for _, q in ports)


def test_virq(handle):
    c = handle(domid=0)
    b = handle(domid=2)
    v = b.bind_virq(0)  # VIRQ_TIMER, per vCPU
    st = b.status(v)
    assert st.state is State.VIRQ and st.virq == 0
    with pytest.raises(FileExistsError):
        b.bind_virq(0)
    with pytest.raises(OSError) as ei:
        b.bind_virq(2)  # VIRQ_CONSOLE: global, the control domain's
    assert ei.value.errno == errno.EBUSY
    with pytest.raises(OSError) as ei:
        b.bind_virq(evtchnx.NR_VIRQS)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(OSError) as ei:
        b.send(v)
    assert ei.value.errno == errno.EINVAL
    c.raise_virq(2, 0)
    assert b.wait(5) == v
    b.unmask(v)
    with pytest.raises(PermissionError):
        b.raise_virq(2, 0)


def test_restrict(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    with pytest.raises(OSError) as ei:
        b.restrict(0)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(OSError) as ei:
        b.restrict(DOMID_SELF)
    assert ei.value.errno == errno.EINVAL
    p = a.alloc_unbound(2)
    p_other = handle(domid=3).alloc_unbound(2)
    b.restrict(1)
    with pytest.raises(PermissionError) as ei:  # EACCES
        b.restrict(1)
    assert ei.value.errno == errno.EACCES
    with pytest.raises(PermissionError):
        b.alloc_unbound(1)
    with pytest.raises(PermissionError):
        b.bind_virq(0)
    with pytest.raises(PermissionError):
        b.bind_interdomain(3, p_other)
    q = b.bind_interdomain(1, p)
    assert b.status(q).state is State.INTERDOMAIN


def test_reset(handle):
    c = handle(domid=0)
    a = handle(domid=1)
    b = handle(domid=2)
    p = a.alloc_unbound(2)
    a.alloc_unbound(2)
    q = b.bind_interdomain(1, p)
    a.reset()
    assert a.status(p).state is State.CLOSED
    assert b.status(q).state is State.UNBOUND
    assert a.alloc_unbound(2) == 1
    with pytest.raises(PermissionError):
        b.reset(1)
    c.reset(1)
    assert a.status(1).state is State.CLOSED


def test_status_errors(handle):
    a = handle(domid=1)
    handle(domid=2)
    assert a.status(0).state is State.CLOSED  # reserved port
    assert a.status(2).state is State.CLOSED  # never used
    # below the limit but beyond the buckets allocated so far, as on Xen
    with pytest.raises(OSError) as ei:
        a.status(evtchnx.SIM_MAX_PORTS - 1)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(OSError) as ei:
        a.status(0xFFFFFFFF)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(ProcessLookupError) as ei:  # ESRCH
        a.status(1, dom=77)
    assert ei.value.errno == errno.ESRCH
    assert "evtchnx_status" in str(ei.value)
    with pytest.raises(PermissionError):
        a.status(1, dom=2)
    with pytest.raises(OSError) as ei:
        a.status(1, dom=0x10000)
    assert ei.value.errno == errno.EINVAL


def test_domains(handle):
    c = handle(domid=0)
    a = handle(domid=1)
    c.domain_create(9)
    with pytest.raises(FileExistsError):
        c.domain_create(9)
    with pytest.raises(PermissionError):
        a.domain_create(10)
    with pytest.raises(OSError) as ei:
        c.domain_create(DOMID_SELF)
    assert ei.value.errno == errno.EINVAL
    # The control domain allocates before the guest joins.
    g = c.alloc_unbound(DOMID_SELF, dom=9)
    guest = handle(domid=9)
    guest.adopt(g)
    p0 = guest.bind_interdomain(0, c.alloc_unbound(9))
    assert guest.status(p0).state is State.INTERDOMAIN
    c.domain_destroy(9)
    with pytest.raises(ProcessLookupError):
        c.domain_destroy(9)
    with pytest.raises(ProcessLookupError):
        c.status(1, dom=9)
    with pytest.raises(OSError) as ei:
        c.domain_destroy(0)
    assert ei.value.errno == errno.EINVAL


def test_unmask_many_and_batch(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(100):
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))
    got = []
    while True:
        batch = b.pending_batch(7)
        assert len(batch) <= 7
        if not batch:
            break
        got.extend(batch)
    assert sorted(got) == sorted(q for _, q in pairs)
    for q in got:
        b.unmask(q)
    for p, _ in pairs:
        a.send(p)
    seen = set()
    for port in b:  # iteration drains and unmasks
        seen.add(port)
    assert seen == {q for _, q in pairs}
    assert b.pending() is None
    # Unmasked by the iteration: new events are delivered again.
    a.send(pairs[0][0])
    assert b.wait(5) == pairs[0][1]
