# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""The batch methods: the same results as the single calls, the whole
result or a BatchError that carries the part done, and busy_poll_ns."""

import errno

import pytest

import evtchnx
from evtchnx import DOMID_SELF, BatchError, State


def test_alloc_batch_gives_the_single_calls_ports(handle):
    a = handle("sim", domid=11)
    ports = a.alloc_unbound_batch(DOMID_SELF, 12, 5)
    assert ports == [1, 2, 3, 4, 5]  # first fit, as five alloc_unbound
    a.unbind(3)
    assert a.alloc_unbound_batch(DOMID_SELF, 12, 2) == [3, 6]
    assert a.alloc_unbound_batch(DOMID_SELF, 12, 0) == []
    assert [s.state for s in a.status_batch(DOMID_SELF, ports)] == \
        [State.UNBOUND] * 5


def test_bind_status_unmask_unbind_batches(handle):
    a = handle("sim", domid=11)
    b = handle("sim", domid=12)
    ports = a.alloc_unbound_batch(DOMID_SELF, 12, 4)
    local = b.bind_interdomain_batch(11, ports)
    assert local == [1, 2, 3, 4]
    # Each bind leaves its port pending, as bind_interdomain does.
    assert sorted(b.pending_batch(10)) == local
    assert b.status_batch(DOMID_SELF, local) == \
        [b.status(q) for q in local]
    st = a.status_batch(11, ports)
    assert [(s.state, s.remote_domid, s.remote_port) for s in st] == \
        [(State.INTERDOMAIN, 12, q) for q in local]
    # Events latched while masked come out after unmask_batch.
    for p in ports[:2]:
        a.send(p)
    assert b.pending() is None
    assert b.unmask_batch(local) == 4
    assert sorted(b.pending_batch(10)) == local[:2]
    assert b.unmask_batch(()) == 0
    assert b.unbind_batch(local) == 4
    assert [s.state for s in a.status_batch(DOMID_SELF, ports)] == \
        [State.UNBOUND] * 4


def test_partial_unbind_raises_with_the_part_done(handle):
    a = handle("sim", domid=11)
    ports = a.alloc_unbound_batch(DOMID_SELF, 12, 3)
    with pytest.raises(BatchError) as info:
        a.unbind_batch([ports[0], ports[1], 4000, ports[2]])
    e = info.value
    assert isinstance(e, OSError)
    assert e.errno == errno.ENOTCONN
    assert (e.done, e.ports) == (2, ports[:2])
    assert "ports[2] = 4000" in str(e) and "evtchnx_unbind_batch" in str(e)
    # The rest was not touched; the first two are closed.
    assert [s.state for s in a.status_batch(DOMID_SELF, ports)] == \
        [State.CLOSED, State.CLOSED, State.UNBOUND]
    # The first element failing: nothing done, the single call's error.
    with pytest.raises(BatchError) as info:
        a.unbind_batch([0, ports[2]])
    assert (info.value.errno, info.value.done, info.value.ports) == \
        (errno.EINVAL, 0, [])
    with pytest.raises(OSError) as single:
        a.unbind(0)
    assert single.value.errno == errno.EINVAL


def test_partial_bind_keeps_the_bound_ports(handle):
    a = handle("sim", domid=11)
    b = handle("sim", domid=12)
    ports = a.alloc_unbound_batch(DOMID_SELF, 12, 2)
    with pytest.raises(BatchError) as info:
        b.bind_interdomain_batch(11, [ports[0], 777, ports[1]])
    e = info.value
    assert e.errno == errno.EINVAL and e.done == 1
    assert "remote_ports[1] = 777" in str(e)
    (q,) = e.ports
    assert b.status(q).remote_port == ports[0]  # bound, not lost
    assert b.bind_interdomain_batch(11, [ports[1]]) == [q + 1]


def test_alloc_error_subclass_and_nothing_lost(handle):
    g = handle("sim", domid=11)
    handle("sim", domid=12)
    # EPERM: another domain, not the control domain.  Also a
    # PermissionError, so that the single call's except clause works.
    with pytest.raises(PermissionError) as info:
        g.alloc_unbound_batch(12, DOMID_SELF, 3)
    assert isinstance(info.value, BatchError)
    assert (info.value.done, info.value.ports) == (0, [])
    assert "evtchnx_alloc_unbound_batch(dom 12" in str(info.value)


def test_alloc_runs_out_midway(handle):
    c = handle("sim")
    c.domain_create(13)
    try:
        full = c.alloc_unbound_batch(13, 0, evtchnx.SIM_MAX_PORTS - 3)
        assert full[0] == 1 and full[-1] == evtchnx.SIM_MAX_PORTS - 3
        with pytest.raises(BatchError) as info:
            c.alloc_unbound_batch(13, 0, 5)
        e = info.value
        assert e.errno == errno.ENOSPC
        assert e.ports == [evtchnx.SIM_MAX_PORTS - 2,
                           evtchnx.SIM_MAX_PORTS - 1]
        assert e.done == 2
    finally:
        c.domain_destroy(13)


def test_status_batch_partial(handle):
    a = handle("sim", domid=11)
    ports = a.alloc_unbound_batch(DOMID_SELF, 12, 2)
    with pytest.raises(BatchError) as info:
        a.status_batch(DOMID_SELF, ports + [evtchnx.SIM_MAX_PORTS, 1])
    e = info.value
    assert e.errno == errno.EINVAL and e.done == 2
    assert e.ports == ports
    assert e.statuses == [a.status(p) for p in ports]


def test_batch_arguments_are_checked(handle):
    a = handle("sim", domid=11)
    for bad in ("12", 1.0, None, True):
        with pytest.raises(TypeError):
            a.alloc_unbound_batch(DOMID_SELF, 12, bad)  # type: ignore
    with pytest.raises(ValueError):
        a.alloc_unbound_batch(DOMID_SELF, 12, -1)
    with pytest.raises(ValueError):
        a.alloc_unbound_batch(DOMID_SELF, 12, evtchnx.SIM_MAX_PORTS + 1)
    for bad in (None, 5, "12", b"\x01"):
        with pytest.raises(TypeError):
            a.unbind_batch(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"ports\[1\]"):
        a.unmask_batch([1, "2"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        a.status_batch(DOMID_SELF, [True])
    for bad in (-1, 2**32):
        with pytest.raises(OverflowError, match=r"ports\[0\]"):
            a.unbind_batch([bad])
    with pytest.raises(OverflowError):
        a.status_batch(-1, [1])
    a.close()
    with pytest.raises(ValueError, match="closed"):
        a.unbind_batch([1])


def test_busy_poll_option(handle):
    with pytest.raises(OSError) as info:
        handle("sim", domid=11, busy_poll_ns=10**9 + 1)
    assert info.value.errno == errno.EINVAL
    assert "busy_poll_ns 1000000001" in str(info.value)
    with pytest.raises(TypeError):
        handle("sim", busy_poll_ns=0.5)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        handle("sim", busy_poll_ns=-1)
    a = handle("sim", domid=11, busy_poll_ns=10**9)
    b = handle("sim", domid=12, busy_poll_ns=200_000)
    p = a.alloc_unbound(12)
    q = b.bind_interdomain(11, p)
    assert b.wait(1) == q
    b.unmask(q)
    assert b.wait(0.01) is None  # the budget ends in a timeout
    a.send(p)
    assert b.wait(5) == q
