# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Every error path of the Python binding: C errors as OSError with errno
and call name, closed handles, bad ports and domids, garbage arguments,
fork, garbage collection, threads and signals.  Nothing may crash."""

import errno
import gc
import math
import os
import signal
import threading
import time

import pytest

import evtchnx
from evtchnx import _evtchnx
from evtchnx import DOMID_SELF, State

# Every Handle method that takes integers, with valid-looking arguments.
INT_METHODS = [
    ("alloc_unbound", (2,)),
    ("bind_interdomain", (1, 1)),
    ("bind_virq", (0,)),
    ("adopt", (1,)),
    ("send", (1,)),
    ("unbind", (1,)),
    ("status", (1,)),
    ("reset", (1,)),
    ("restrict", (1,)),
    ("unmask", (1,)),
    ("is_pending", (1,)),
    ("domain_create", (5,)),
    ("domain_destroy", (5,)),
    ("raise_virq", (1, 0)),
]
NO_ARG_METHODS = ["pending", "fileno"]

BAD_INTS = [-1, -2**31, 2**32, 2**32 + 1, 2**64, 10**100, "1", b"1", 1.0,
            1.5, math.nan, None, [], {}, object(), 1j]


# ---- OSError ------------------------------------------------------------

def test_oserror_carries_errno_and_call(handle):
    a = handle(domid=1)
    with pytest.raises(OSError) as ei:
        a.send(1234)
    e = ei.value
    assert e.errno == errno.ENOTCONN
    assert type(e) is OSError
    assert e.strerror == ("evtchnx_send(port 1234): "
                          + evtchnx.strerror(-errno.ENOTCONN))
    assert str(e) == f"[Errno {errno.ENOTCONN}] {e.strerror}"


def test_oserror_names_domain_and_lab(handle, lab):
    c = handle(domid=0)
    with pytest.raises(ProcessLookupError) as ei:
        c.status(5, dom=99)
    assert ei.value.errno == errno.ESRCH
    assert "evtchnx_status(dom 99, port 5): " in str(ei.value)
    a = handle(domid=1)
    handle(domid=2)
    with pytest.raises(PermissionError) as ei:
        a.alloc_unbound(1, dom=2)
    assert "evtchnx_alloc_unbound(dom 2, remote_dom 1): " in str(ei.value)
    target = lab if lab.startswith("sim:") else "sim:" + lab
    with pytest.raises(ConnectionRefusedError) as ei:
        evtchnx.Handle(target, domid=3, flags=evtchnx.OPEN_NO_SPAWN)
    assert ei.value.errno == errno.ECONNREFUSED
    assert f"evtchnx_open({target!r}, domid 3): " in str(ei.value)


@pytest.mark.parametrize("call, exc, code", [
    (lambda c, a: a.alloc_unbound(1, dom=2), PermissionError, errno.EPERM),
    (lambda c, a: c.status(1, dom=99), ProcessLookupError, errno.ESRCH),
    (lambda c, a: a.bind_virq(0) and a.bind_virq(0), FileExistsError,
     errno.EEXIST),
    (lambda c, a: c.domain_destroy(99), ProcessLookupError, errno.ESRCH),
])
def test_oserror_subclasses(handle, call, exc, code):
    c = handle(domid=0)
    a = handle(domid=1)
    handle(domid=2)
    with pytest.raises(exc) as ei:
        call(c, a)
    assert ei.value.errno == code


def test_strerror_and_version():
    assert evtchnx.strerror(errno.EINVAL) == os.strerror(errno.EINVAL)
    assert evtchnx.strerror(-errno.EINVAL) == os.strerror(errno.EINVAL)
    assert isinstance(evtchnx.strerror(123456), str)
    assert evtchnx.version() == evtchnx.VERSION
    with pytest.raises(OverflowError):
        evtchnx.strerror(2**40)
    with pytest.raises(TypeError):
        evtchnx.strerror("x")  # type: ignore[arg-type]


# ---- open -------------------------------------------------------------

@pytest.mark.parametrize("target", ["bogus", "sim:", "sim:.x", "sim:a/b",
                                    "sim:" + "n" * 65, "SIM", "xen:x"])
def test_open_bad_target(target):
    with pytest.raises(OSError) as ei:
        evtchnx.Handle(target)
    assert ei.value.errno == errno.EINVAL
    assert "evtchnx_open" in str(ei.value)


def test_open_reserved_domid():
    for domid in (DOMID_SELF, evtchnx.DOMID_FIRST_RESERVED + 1, 0xFFFF,
                  0x10000, 2**32 - 1):
        with pytest.raises(OSError) as ei:
            evtchnx.Handle("sim", domid=domid)
        assert ei.value.errno == errno.EINVAL


def test_open_unknown_flags():
    with pytest.raises(OSError) as ei:
        evtchnx.Handle("sim", flags=0x100)
    assert ei.value.errno == errno.EINVAL


def test_open_no_spawn(lab):
    with pytest.raises(ConnectionRefusedError) as ei:
        evtchnx.Handle(lab, flags=evtchnx.OPEN_NO_SPAWN)
    assert ei.value.errno == errno.ECONNREFUSED


@pytest.mark.skipif(os.path.exists("/dev/xen/evtchn"),
                    reason="this machine runs on Xen")
def test_open_xen_without_xen():
    with pytest.raises(OSError) as ei:
        evtchnx.Handle("xen")
    assert ei.value.errno in (errno.ENODEV, errno.ENOSYS)


def test_open_auto(monkeypatch):
    monkeypatch.setenv("EVTCHNX_TARGET", "sim")
    with evtchnx.Handle() as h:
        assert h.backend == "sim"
    with evtchnx.Handle("") as h:
        assert h.backend == "sim"
    monkeypatch.delenv("EVTCHNX_TARGET")
    if not os.path.exists("/dev/xen/evtchn"):
        with evtchnx.Handle() as h:
            assert h.backend == "sim"


@pytest.mark.parametrize("target", [b"sim", 1, 1.0, ["sim"], object()])
def test_open_garbage_target(target):
    with pytest.raises(TypeError):
        evtchnx.Handle(target)  # type: ignore[arg-type]


def test_open_nul_in_target():
    with pytest.raises(ValueError):
        evtchnx.Handle("sim\0:x")


@pytest.mark.parametrize("bad", BAD_INTS + [True])
def test_open_garbage_domid(bad):
    with pytest.raises((TypeError, OverflowError)):
        evtchnx.Handle("sim", domid=bad)  # type: ignore[arg-type]
    with pytest.raises((TypeError, OverflowError)):
        evtchnx.Handle("sim", flags=bad)  # type: ignore[arg-type]


# ---- closed handles -------------------------------------------------------

def test_closed_handle_raises_everywhere():
    h = evtchnx.Handle("sim", domid=1)
    assert not h.closed
    h.close()
    assert h.closed
    h.close()  # twice: harmless
    for name, args in INT_METHODS:
        with pytest.raises(ValueError, match="handle is closed"):
            getattr(h, name)(*args)
    for name in NO_ARG_METHODS:
        with pytest.raises(ValueError, match="handle is closed"):
            getattr(h, name)()
    with pytest.raises(ValueError, match="handle is closed"):
        h.pending_batch(4)
    with pytest.raises(ValueError, match="handle is closed"):
        h.wait(0)
    with pytest.raises(ValueError, match="handle is closed"):
        h.wait(None)
    with pytest.raises(ValueError, match="handle is closed"):
        list(h)
    with pytest.raises(ValueError, match="handle is closed"):
        h.domid
    with pytest.raises(ValueError, match="handle is closed"):
        h.backend
    with pytest.raises(ValueError, match="handle is closed"):
        with h:
            pass
    assert "closed" in repr(h)


def test_use_after_context_exit():
    with evtchnx.Handle("sim", domid=1) as h:
        p = h.alloc_unbound(2)
    with pytest.raises(ValueError):
        h.send(p)


def test_raw_module_refuses_closed_and_foreign_objects():
    box = _evtchnx.evtchnx_open("sim", None)
    assert not box.closed
    _evtchnx.evtchnx_close(box)
    assert box.closed
    _evtchnx.evtchnx_close(box)
    with pytest.raises(ValueError):
        _evtchnx.evtchnx_send(box, 1)
    with pytest.raises(ValueError):
        _evtchnx.evtchnx_wait(box, 0)
    for junk in (None, 0, "sim", object(), _evtchnx.evtchnx_open_opts()):
        with pytest.raises(TypeError):
            _evtchnx.evtchnx_send(junk, 1)
        with pytest.raises(TypeError):
            _evtchnx.evtchnx_close(junk)
        with pytest.raises(TypeError):
            _evtchnx.evtchnx_wait(junk, 0)
    with pytest.raises(TypeError):
        _evtchnx.evtchnx_open("sim", "not options")
    with pytest.raises(TypeError):
        _evtchnx.evtchnx_send()
    with pytest.raises(TypeError):
        _evtchnx.evtchnx_pending_batch(box)
    with pytest.raises(TypeError):
        _evtchnx.HandleBox()


def test_raw_structs():
    o = _evtchnx.evtchnx_open_opts(3, 0)
    assert (o.domid, o.flags) == (3, 0)
    assert o.sz >= 16
    st = _evtchnx.evtchnx_status_info()
    assert st.sz >= 32
    with pytest.raises(AttributeError):
        st.sz = 1 << 20  # would let C write past the object
    with pytest.raises(AttributeError):
        o.sz = 0
    with pytest.raises(OverflowError):
        _evtchnx.evtchnx_open_opts(-1)
    assert _evtchnx.evtchnx_open_opts(1, 2, 3).busy_poll_ns == 3
    assert o.sz >= 24  # busy_poll_ns (since 1.1) is inside
    with pytest.raises(OverflowError):
        _evtchnx.evtchnx_open_opts(1, 2, -1)
    with pytest.raises(TypeError):
        _evtchnx.evtchnx_open_opts(1, 2, 3, 4)


# ---- bad ports and domids -------------------------------------------------

def test_bad_ports(channel, handle):
    a, p, b, q = channel
    other = handle(domid=1)  # same domain, another handle
    for port in (0, evtchnx.SIM_MAX_PORTS, 0x7FFFFFFF, 0x80000000,
                 0xFFFFFFFF):
        for op in (a.send, a.unbind, a.unmask, a.is_pending):
            with pytest.raises(OSError) as ei:
                op(port)
            assert ei.value.errno == errno.EINVAL, (op, port)
    free = evtchnx.SIM_MAX_PORTS - 1
    for port in (free, p + 1):
        for op in (a.send, a.unbind, a.unmask, a.is_pending):
            with pytest.raises(OSError) as ei:
                op(port)
            assert ei.value.errno == errno.ENOTCONN
    # Bound by another handle of the same domain.
    for op in (other.send, other.unbind, other.unmask, other.is_pending):
        with pytest.raises(OSError) as ei:
            op(p)
        assert ei.value.errno == errno.ENOTCONN
    with pytest.raises(OSError) as ei:
        a.adopt(free)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(OSError) as ei:
        a.adopt(0)
    assert ei.value.errno == errno.EINVAL


def test_wrong_domids(handle):
    c = handle(domid=0)
    a = handle(domid=1)
    for dom in (0x10000, 0xFFFFFFFF):
        with pytest.raises(OSError) as ei:
            a.alloc_unbound(dom)
        assert ei.value.errno == errno.EINVAL
        with pytest.raises(OSError) as ei:
            a.alloc_unbound(2, dom=dom)
        assert ei.value.errno == errno.EINVAL
        with pytest.raises(OSError) as ei:
            a.bind_interdomain(dom, 1)
        assert ei.value.errno == errno.EINVAL
        with pytest.raises(OSError) as ei:
            c.reset(dom)
        assert ei.value.errno == errno.EINVAL
    # remote_dom is not checked for existence (it may join later).
    p = a.alloc_unbound(42)
    assert a.status(p).remote_domid == 42
    with pytest.raises(ProcessLookupError):
        c.alloc_unbound(1, dom=43)
    with pytest.raises(ProcessLookupError):
        a.bind_interdomain(43, 1)
    with pytest.raises(ProcessLookupError):
        c.raise_virq(43, 0)
    with pytest.raises(OSError) as ei:
        c.raise_virq(1, evtchnx.NR_VIRQS)
    assert ei.value.errno == errno.EINVAL


# ---- garbage arguments ----------------------------------------------------

@pytest.mark.parametrize("bad", BAD_INTS)
@pytest.mark.parametrize("name, args", INT_METHODS)
def test_garbage_ints(handle, name, args, bad):
    h = handle(domid=0)
    method = getattr(h, name)
    for i in range(len(args)):
        call = list(args)
        call[i] = bad
        with pytest.raises((TypeError, OverflowError)):
            method(*call)
    # The handle still works.
    h.pending()
    assert h.fileno() >= 0


@pytest.mark.parametrize("bad", BAD_INTS)
def test_garbage_keyword_domids(handle, bad):
    h = handle(domid=0)
    with pytest.raises((TypeError, OverflowError)):
        h.alloc_unbound(1, dom=bad)
    with pytest.raises((TypeError, OverflowError)):
        h.status(1, dom=bad)


def test_garbage_batch_and_wait(handle):
    h = handle(domid=1)
    for bad in (0, -1, -2**64):
        with pytest.raises(ValueError):
            h.pending_batch(bad)
    for bad in ("1", 1.0, None, True):
        with pytest.raises(TypeError):
            h.pending_batch(bad)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        h.pending_batch(2**40)
    assert h.pending_batch(2**31) == []  # capped buffer, nothing pending
    for bad in (-1, -0.001, math.nan, -math.inf):
        with pytest.raises(ValueError):
            h.wait(bad)
    for bad in ("1", [], object()):
        with pytest.raises(TypeError):
            h.wait(bad)  # type: ignore[arg-type]
    assert h.wait(0) is None
    assert h.wait(0.01) is None
    with pytest.raises(TypeError):
        h.alloc_unbound()
    with pytest.raises(TypeError):
        h.alloc_unbound(1, 2, 3)
    with pytest.raises(TypeError):
        h.alloc_unbound(1, 2, dom=1)
    with pytest.raises(TypeError):
        h.send()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        h.send(1, 2)  # type: ignore[call-arg]


def test_raw_garbage_wait_timeout():
    box = _evtchnx.evtchnx_open("sim", None)
    try:
        for bad in (2**31, -2**31 - 1, 2**64):
            with pytest.raises(OverflowError):
                _evtchnx.evtchnx_wait(box, bad)
        for bad in ("1", None, 1.5):
            with pytest.raises(TypeError):
                _evtchnx.evtchnx_wait(box, bad)
    finally:
        _evtchnx.evtchnx_close(box)


# ---- garbage collection, fork ---------------------------------------------

def test_gc_closes_the_handle(handle):
    a = handle(domid=1)
    p = a.alloc_unbound(2)
    b = evtchnx.Handle("sim", domid=2)
    b.bind_interdomain(1, p)
    assert a.status(p).state is State.INTERDOMAIN
    del b
    gc.collect()
    assert a.status(p).state is State.UNBOUND
    assert a.status(p).remote_domid == 2


def test_fork_child_cannot_use_inherited_handle(channel):
    a, p, b, q = channel
    a.send(p)
    # A port taken into the backlog by the parent must not leak to the
    # child either.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report, never return into pytest
        code = 0
        try:
            for call in (lambda: a.send(p), lambda: b.pending(),
                         lambda: b.wait(0), lambda: a.status(p),
                         lambda: b.fileno()):
                try:
                    call()
                    code |= 1
                except OSError as e:
                    if e.errno != errno.EBADF:
                        code |= 2
            a.close()  # releases the child's copy only
            b.close()
        except BaseException:
            code |= 4
        os.write(w, bytes([code]))
        os._exit(0)
    os.close(w)
    try:
        res = os.read(r, 1)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    assert res == b"\x00", f"child saw errors: {res!r}"
    # The parent's channel is intact.
    assert a.status(p)[:4] == (State.INTERDOMAIN, 0, 2, q)
    assert b.wait(5) == q
    b.unmask(q)
    a.send(p)
    assert b.wait(5) == q


# ---- threads and signals ----------------------------------------------------

def test_wait_releases_the_gil(channel):
    a, p, b, q = channel
    got = []
    t = threading.Thread(target=lambda: got.append(b.wait(10)))
    t.start()
    time.sleep(0.2)  # the thread is blocked in C; we still run
    assert t.is_alive()
    a.send(p)
    t.join(10)
    assert got == [q]


def test_close_while_another_thread_waits(channel):
    a, p, b, q = channel
    started = threading.Event()
    got = []

    def waiter():
        started.set()
        got.append(b.wait(10))

    t = threading.Thread(target=waiter)
    t.start()
    started.wait()
    time.sleep(0.2)
    with pytest.raises(RuntimeError):
        b.close()
    assert not b.closed
    a.send(p)
    t.join(10)
    assert got == [q]
    b.close()
    assert b.closed


class _Alarm(Exception):
    pass


def test_signal_handler_interrupts_wait(handle):
    h = handle(domid=1)

    def on_alarm(signum, frame):
        raise _Alarm()

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        t0 = time.monotonic()
        with pytest.raises(_Alarm):
            h.wait(10)
        assert time.monotonic() - t0 < 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    # Usable afterwards.
    assert h.wait(0) is None


def test_quiet_signal_handler_does_not_end_wait(handle):
    h = handle(domid=1)
    calls = []
    old = signal.signal(signal.SIGALRM, lambda s, f: calls.append(s))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        t0 = time.monotonic()
        assert h.wait(0.4) is None  # a timeout, not InterruptedError
        assert time.monotonic() - t0 >= 0.35
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert calls == [signal.SIGALRM]
