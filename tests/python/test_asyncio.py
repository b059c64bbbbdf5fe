# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""asyncio integration: wait_async(), async for ... in events(), draining
per readiness event, several waiters, cancellation and closing, event
handlers (per port and batch); every test runs on asyncio's default loop
and on uvloop."""

import asyncio
import errno
import importlib.util
import os
import subprocess
import sys

import pytest

import evtchnx
import evtchnx._asyncio as aio

from conftest import readable

# The loop the tests of this module run on (set by the fixture below).
_loop_factory = asyncio.new_event_loop


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def loop_kind(request):
    """Run each test on asyncio's default loop and on uvloop."""
    global _loop_factory
    if request.param == "uvloop":
        uvloop = pytest.importorskip(
            "uvloop", reason="uvloop is not installed (Debian's python3-uvloop)")
        _loop_factory = uvloop.new_event_loop
    else:
        _loop_factory = asyncio.new_event_loop
    yield request.param
    _loop_factory = asyncio.new_event_loop


def run(coro, timeout=30):
    """asyncio.run() on the loop of the test."""
    with asyncio.Runner(loop_factory=_loop_factory) as runner:
        return runner.run(asyncio.wait_for(coro, timeout))


async def events_ping_pong(a, p, b, q, n):
    """``n`` exchanges through events() in one loop: a pings on p, b
    answers on q.  Returns the counts of both sides."""
    async def pinger():
        a.send(p)
        count = 0
        async for port in a.events():
            assert port == p
            count += 1
            if count == n:
                return count
            a.send(p)

    async def ponger():
        count = 0
        async for port in b.events():
            assert port == q
            b.send(q)
            count += 1
            if count == n:
                return count

    return await asyncio.gather(pinger(), ponger())


def test_wait_async(channel):
    a, p, b, q = channel

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, a.send, p)
        port = await b.wait_async()
        assert port == q
        # Still masked: no further delivery until unmask.
        a.send(p)
        assert await b.wait_async(0.1) is None
        b.unmask(q)
        assert await b.wait_async(5) == q
        b.unmask(q)

    run(main())


def test_wait_async_timeout(channel):
    a, p, b, q = channel

    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert await b.wait_async(0.1) is None
        assert loop.time() - t0 >= 0.09
        assert await b.wait_async(0) is None

    run(main())
    with pytest.raises(ValueError):
        run(b.wait_async(-1))


def test_events_drain_per_readiness(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(40):
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))
    for q in b.pending_batch(100):
        b.unmask(q)
    for p, _ in pairs:
        a.send(p)

    async def main():
        got = []
        async for port in b.events():
            got.append(port)
            if len(got) == 1:
                # The first readiness event took every pending port out
                # of the library: the fd is quiet, the rest is queued.
                assert not readable(b)
            if len(got) == len(pairs):
                break
        return got

    got = run(main())
    assert sorted(got) == sorted(q for _, q in pairs)
    # events() unmasked every port it yielded.
    for p, q in pairs[:3]:
        a.send(p)
    assert sorted(b.pending_batch(10)) == sorted(q for _, q in pairs[:3])


def test_events_unmask_false_keeps_ports_masked(channel):
    a, p, b, q = channel

    async def main():
        a.send(p)
        async for port in b.events(unmask=False):
            assert port == q
            break

    run(main())
    a.send(p)
    assert b.is_pending(q)
    assert b.pending() is None  # still masked
    b.unmask(q)
    assert b.wait(5) == q


def test_early_break_loses_nothing(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(5):
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))

    async def main():
        async for port in b.events():
            return port

    first = run(main())
    # The four ports taken with it are not lost: they come next, from any
    # API.
    rest = [b.pending()]
    rest += b.pending_batch(10)
    rest.append(b.wait(0))
    rest = [x for x in rest if x is not None]
    assert sorted([first] + rest) == sorted(q for _, q in pairs)


def test_two_waiters(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    p1 = a.alloc_unbound(2)
    p2 = a.alloc_unbound(2)
    q1 = b.bind_interdomain(1, p1)
    q2 = b.bind_interdomain(1, p2)
    for q in b.pending_batch(4):
        b.unmask(q)

    async def main():
        t1 = asyncio.ensure_future(b.wait_async(10))
        t2 = asyncio.ensure_future(b.wait_async(10))
        await asyncio.sleep(0.05)
        a.send(p1)
        a.send(p2)
        return sorted(await asyncio.gather(t1, t2))

    assert run(main()) == sorted([q1, q2])


def test_cancelled_wait_loses_nothing(channel):
    a, p, b, q = channel

    async def main():
        task = asyncio.ensure_future(b.wait_async())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        a.send(p)
        assert await b.wait_async(5) == q

    run(main())


def test_close_wakes_waiters(channel):
    a, p, b, q = channel

    async def main():
        task = asyncio.ensure_future(b.wait_async())
        await asyncio.sleep(0.05)
        b.close()
        with pytest.raises(ValueError, match="handle is closed"):
            await task
        with pytest.raises(ValueError, match="handle is closed"):
            await b.wait_async()

    run(main())


def test_several_loops_in_turn(channel):
    a, p, b, q = channel
    for _ in range(3):
        async def main():
            asyncio.get_running_loop().call_later(0.01, a.send, p)
            port = await b.wait_async(5)
            b.unmask(port)
            return port

        assert run(main()) == q
    # Closed loops do not pile up.
    assert len(b._watches) <= 1


def test_ping_pong_in_one_loop(channel):
    a, p, b, q = channel
    assert run(events_ping_pong(a, p, b, q, 200)) == [200, 200]


def test_closed_handle_async():
    h = evtchnx.Handle("sim", domid=1)
    h.close()
    with pytest.raises(ValueError):
        run(h.wait_async(0))

    async def loop():
        async for _ in h.events():
            pass

    with pytest.raises(ValueError):
        run(loop())


# ---- one reader per handle in the await style ------------------------------

def test_events_keep_one_reader(channel):
    """A ping-pong through events() registers each handle's fd with the
    loop once, not once per await."""
    a, p, b, q = channel
    n = 200
    added = []

    async def main():
        loop = asyncio.get_running_loop()
        add_reader = loop.add_reader

        def counting_add_reader(fd, *args):
            added.append(fd)
            return add_reader(fd, *args)

        loop.add_reader = counting_add_reader
        return await events_ping_pong(a, p, b, q, n)

    assert run(main()) == [n, n]
    assert sorted(added) == sorted([a.fileno(), b.fileno()])


# ---- add_event_handler() ---------------------------------------------------

class Recorder:
    """An event handler that records its ports and wakes a test."""

    def __init__(self, fail_on=()):
        self.ports = []
        self.fail_on = set(fail_on)
        self.arrived = asyncio.Event()

    def __call__(self, port):
        self.ports.append(port)
        self.arrived.set()
        if len(self.ports) in self.fail_on:
            raise RuntimeError(f"handler failure {len(self.ports)}")

    async def next(self, count):
        """Wait until ``count`` ports were recorded in all."""
        while len(self.ports) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)


async def settle():
    """Let the loop turn a few times (pending readiness gets handled)."""
    for _ in range(5):
        await asyncio.sleep(0.01)


def test_handler_once_per_send_after_unmask(channel):
    a, p, b, q = channel

    async def main():
        rec = Recorder()
        b.add_event_handler(rec)
        for k in range(1, 21):
            a.send(p)
            await rec.next(k)
            assert rec.ports == [q] * k
        # Sends before the handler ran latch one pending bit: one call.
        a.send(p)
        a.send(p)
        a.send(p)
        await rec.next(21)
        await settle()
        assert rec.ports == [q] * 21
        assert not readable(b)
        assert b.remove_event_handler() is True

    run(main())
    # The handler unmasked q: the next event is deliverable at once.
    a.send(p)
    assert b.wait(5) == q
    b.unmask(q)


def test_handler_unmask_false(channel):
    a, p, b, q = channel

    async def main():
        rec = Recorder()
        b.add_event_handler(rec, unmask=False)
        a.send(p)
        await rec.next(1)
        a.send(p)  # latched while masked
        await settle()
        assert rec.ports == [q]
        b.unmask(q)
        await rec.next(2)
        await settle()
        assert rec.ports == [q, q]
        b.remove_event_handler()

    run(main())
    assert b.pending() is None  # still masked after the second call
    b.unmask(q)


def test_handler_drains_every_port_per_readiness(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(300):  # more than one C batch of 256
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))
    for q in b.pending_batch(512):
        b.unmask(q)
    calls = []

    async def main():
        loop = asyncio.get_running_loop()
        add_reader = loop.add_reader
        readiness = []

        def counting_add_reader(fd, cb, *args):
            def counted(*a):
                readiness.append(len(calls))
                cb(*a)
            return add_reader(fd, counted, *args)

        loop.add_reader = counting_add_reader
        rec = Recorder()

        def on_event(port):
            calls.append(port)
            rec(port)

        b.add_event_handler(on_event)
        for p, _ in pairs:
            a.send(p)
        await rec.next(len(pairs))
        b.remove_event_handler()
        return readiness

    readiness = run(main())
    assert sorted(calls) == sorted(q for _, q in pairs)
    assert readiness == [0]  # one readiness event served all 300
    for p, q in pairs[:3]:  # every port was unmasked
        a.send(p)
    assert sorted(b.pending_batch(10)) == sorted(q for _, q in pairs[:3])


def test_handler_removal(channel):
    a, p, b, q = channel

    async def main():
        rec = Recorder()
        b.add_event_handler(rec)
        a.send(p)
        await rec.next(1)
        assert b.remove_event_handler() is True
        assert b.remove_event_handler() is False
        a.send(p)
        await settle()
        assert rec.ports == [q]  # not called after removal
        # The event stays with the library, for the await style.
        assert readable(b)
        assert await b.wait_async(5) == q
        b.unmask(q)

    run(main())


def test_handler_removes_itself_loses_nothing(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(5):
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))
    seen = []

    async def main():
        done = asyncio.get_running_loop().create_future()

        def on_event(port):
            seen.append(port)
            b.remove_event_handler()
            done.set_result(None)

        b.add_event_handler(on_event, unmask=False)
        await asyncio.wait_for(done, 10)
        await settle()

    run(main())
    assert len(seen) == 1
    # The four ports taken with it stay queued in the handle.
    rest = b.pending_batch(10)
    assert sorted(seen + rest) == sorted(q for _, q in pairs)


@pytest.mark.parametrize("batch", [False, True])
def test_handler_gets_queued_ports(handle, batch):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(4):
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))

    async def first():
        async for port in b.events():
            return port

    first_port = run(first())  # leaves three ports queued in b

    async def main():
        if batch:
            rec = BatchRecorder()
        else:
            rec = Recorder()
        b.add_event_handler(rec, batch=batch)
        await rec.next(3)
        await settle()
        b.remove_event_handler()
        return rec.ports

    rest = run(main())
    assert sorted([first_port] + rest) == sorted(q for _, q in pairs)


def test_handler_errors_lose_no_event(handle):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(3):
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))
    for q in b.pending_batch(4):
        b.unmask(q)
    contexts = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, ctx: contexts.append(ctx))
        rec = Recorder(fail_on={1, 4})
        b.add_event_handler(rec)
        # Three ports in one readiness event; the first call raises.
        for p, _ in pairs:
            a.send(p)
        await rec.next(3)
        # Every port was unmasked, also the one whose handler raised.
        for p, _ in pairs:
            a.send(p)
        await rec.next(6)
        await settle()
        b.remove_event_handler()
        return rec.ports

    ports = run(main())
    qs = sorted(q for _, q in pairs)
    assert sorted(ports[:3]) == qs and sorted(ports[3:]) == qs
    assert len(ports) == 6
    assert [str(c["exception"]) for c in contexts] == [
        "handler failure 1", "handler failure 4"]
    assert contexts[0]["port"] == ports[0]
    assert contexts[0]["handle"] is b


def test_handler_conflicts(channel):
    a, p, b, q = channel

    async def main():
        b.add_event_handler(lambda port: None)
        with pytest.raises(RuntimeError, match="already"):
            b.add_event_handler(lambda port: None)
        with pytest.raises(RuntimeError, match="event handler"):
            await b.wait_async(0)
        with pytest.raises(RuntimeError, match="event handler"):
            async for _ in b.events():
                pass
        b.remove_event_handler()
        task = asyncio.ensure_future(b.wait_async())
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError, match="waiting"):
            b.add_event_handler(lambda port: None)
        a.send(p)
        assert await task == q
        b.unmask(q)
        with pytest.raises(TypeError):
            b.add_event_handler(42)

    run(main())
    with pytest.raises(RuntimeError):  # no running loop, none given
        b.add_event_handler(lambda port: None)


def test_handler_with_explicit_loop(channel):
    a, p, b, q = channel
    loop = _loop_factory()
    try:
        rec = Recorder()
        b.add_event_handler(rec, loop=loop)
        a.send(p)

        async def main():
            await rec.next(1)

        loop.run_until_complete(asyncio.wait_for(main(), 10))
        assert rec.ports == [q]
        assert b.remove_event_handler() is True
    finally:
        loop.close()


def test_handler_close_stops_it(channel):
    a, p, b, q = channel

    async def main():
        def on_event(port):
            calls.append(port)
            b.close()  # also from within the handler

        calls = []
        b.add_event_handler(on_event)
        a.send(p)
        await settle()
        a.send(p)
        await settle()
        assert calls == [q]
        assert b.remove_event_handler() is False

    run(main())


@pytest.mark.parametrize("batch", [False, True])
def test_handler_ping_pong_in_one_loop(channel, batch):
    """No lost wake-up: each exchange answered from a handler, per port or
    batch (then called with the list of the one port)."""
    a, p, b, q = channel
    n = 200

    async def main():
        done = asyncio.get_running_loop().create_future()
        count = [0, 0]

        def ping(port):
            assert port == ([p] if batch else p)
            count[0] += 1
            if count[0] == n:
                done.set_result(None)
            else:
                a.send(p)

        def pong(port):
            assert port == ([q] if batch else q)
            count[1] += 1
            b.send(q)

        a.add_event_handler(ping, batch=batch)
        b.add_event_handler(pong, batch=batch)
        a.send(p)
        await asyncio.wait_for(done, 30)
        a.remove_event_handler()
        b.remove_event_handler()
        return count

    assert run(main()) == [n, n]


# ---- add_event_handler(batch=True) ----------------------------------------

class BatchRecorder:
    """A batch event handler that records its calls and wakes a test."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail
        self.arrived = asyncio.Event()

    def __call__(self, ports):
        self.calls.append(list(ports))
        self.arrived.set()
        if self.fail:
            raise RuntimeError(f"batch failure {len(self.calls)}")

    @property
    def ports(self):
        return [p for call in self.calls for p in call]

    async def next(self, count):
        """Wait until ``count`` ports were handed over in all."""
        while len(self.ports) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)


def fake_unmask_batch(box, ports):
    """The contract of the C module's evtchnx_unmask_batch, over the single
    call: (count, 0), or (count, -errno) at the port that failed."""
    for i, port in enumerate(ports):
        try:
            evtchnx._c.evtchnx_unmask(box, port)
        except OSError as e:
            return i, -e.errno
    return len(ports), 0


async def send_to_batch_handler(a, b, pairs, also=None):
    """Send on every pair to a BatchRecorder installed on ``b`` (which
    then calls ``also(ports)``), wait for all, remove it; return it."""
    rec = BatchRecorder()

    def on_ports(ports):
        rec(ports)
        if also is not None:
            also(ports)

    b.add_event_handler(on_ports, batch=True)
    for p, _ in pairs:
        a.send(p)
    await rec.next(len(pairs))
    b.remove_event_handler()
    return rec


def many_channels(handle, n):
    a = handle(domid=1)
    b = handle(domid=2)
    pairs = []
    for _ in range(n):
        p = a.alloc_unbound(2)
        pairs.append((p, b.bind_interdomain(1, p)))
    while True:  # binding left each new port pending
        taken = b.pending_batch(512)
        if not taken:
            break
        for q in taken:
            b.unmask(q)
    return a, b, pairs


def test_batch_handler_one_call_per_readiness(handle):
    a, b, pairs = many_channels(handle, 300)  # more than one C batch
    readiness = []

    async def main():
        loop = asyncio.get_running_loop()
        add_reader = loop.add_reader

        def counting_add_reader(fd, cb, *args):
            def counted(*x):
                readiness.append(len(rec.calls))
                cb(*x)
            return add_reader(fd, counted, *args)

        loop.add_reader = counting_add_reader
        rec = BatchRecorder()
        b.add_event_handler(rec, batch=True)
        for p, _ in pairs:
            a.send(p)
        await rec.next(len(pairs))
        await settle()
        b.remove_event_handler()
        return rec

    rec = run(main())
    # One readiness event, one call with all 300 ports.
    assert readiness[:1] == [0]
    assert len(rec.calls) == 1
    assert sorted(rec.ports) == sorted(q for _, q in pairs)
    assert not readable(b)
    # Every port was unmasked: the next events are delivered.
    for p, _ in pairs:
        a.send(p)
    got = []
    while len(got) < len(pairs):
        more = b.pending_batch(512)
        assert more, "an event was lost"
        got += more
    assert sorted(got) == sorted(q for _, q in pairs)


def test_batch_handler_unmasks_in_one_call(handle, monkeypatch):
    a, b, pairs = many_channels(handle, 40)
    calls = []

    def recording_unmask_batch(box, ports):
        calls.append(list(ports))
        return fake_unmask_batch(box, ports)

    monkeypatch.setattr(aio, "_unmask_batch", recording_unmask_batch)
    rec = run(send_to_batch_handler(a, b, pairs))
    assert len(calls) == len(rec.calls)
    assert [sorted(c) for c in calls] == [sorted(c) for c in rec.calls]
    for p, _ in pairs[:5]:
        a.send(p)
    assert sorted(b.pending_batch(10)) == sorted(q for _, q in pairs[:5])


@pytest.mark.parametrize("unmask_batch", ["module", "fake", "none"])
def test_batch_handler_unbinding_a_port(handle, monkeypatch, unmask_batch):
    """A port the handler unbinds is skipped (ENOTCONN); the others are
    unmasked, with the C module's batch call (when the package wraps it),
    with one that keeps to its contract, and with the per-port fallback."""
    a, b, pairs = many_channels(handle, 6)
    monkeypatch.setattr(aio, "_unmask_batch", {
        "module": aio._find_unmask_batch(), "fake": fake_unmask_batch,
        "none": None}[unmask_batch])
    gone = pairs[2][1]
    rec = run(send_to_batch_handler(a, b, pairs,
                                    lambda ports: b.unbind(gone)))
    assert sorted(rec.ports) == sorted(q for _, q in pairs)
    for p, _ in pairs:
        a.send(p)
    assert sorted(b.pending_batch(10)) == sorted(
        q for _, q in pairs if q != gone)


def test_unmask_ports_raises_other_errors(handle, monkeypatch):
    b = handle(domid=2)
    monkeypatch.setattr(aio, "_unmask_batch",
                        lambda box, ports: (0, -errno.EINVAL))
    with pytest.raises(OSError) as exc:
        aio.unmask_ports(b._box, [5])
    assert exc.value.errno == errno.EINVAL
    monkeypatch.setattr(aio, "_unmask_batch", None)
    with pytest.raises(OSError) as exc:
        aio.unmask_ports(b._box, [0])
    assert exc.value.errno == errno.EINVAL


def test_batch_handler_errors_lose_no_event(handle):
    a, b, pairs = many_channels(handle, 3)
    contexts = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, ctx: contexts.append(ctx))
        rec = BatchRecorder(fail=True)
        b.add_event_handler(rec, batch=True)
        for p, _ in pairs:
            a.send(p)
        await rec.next(3)
        # Unmasked although the handler raised: the next sends arrive.
        for p, _ in pairs:
            a.send(p)
        await rec.next(6)
        b.remove_event_handler()
        return rec

    rec = run(main())
    qs = sorted(q for _, q in pairs)
    assert sorted(rec.ports[:3]) == qs and sorted(rec.ports[3:]) == qs
    assert len(contexts) == len(rec.calls)
    assert str(contexts[0]["exception"]) == "batch failure 1"
    assert sorted(contexts[0]["ports"]) == sorted(rec.calls[0])
    assert contexts[0]["handle"] is b


def test_batch_handler_unmask_false(channel):
    a, p, b, q = channel

    async def main():
        rec = BatchRecorder()
        b.add_event_handler(rec, batch=True, unmask=False)
        a.send(p)
        await rec.next(1)
        a.send(p)  # latched while masked
        await settle()
        assert rec.calls == [[q]]
        b.unmask(q)
        await rec.next(2)
        b.remove_event_handler()

    run(main())
    b.unmask(q)


def test_batch_handler_close_from_handler(channel):
    a, p, b, q = channel
    calls = []

    async def main():
        def on_ports(ports):
            calls.append(ports)
            b.close()

        b.add_event_handler(on_ports, batch=True)
        a.send(p)
        await settle()
        a.send(p)
        await settle()

    run(main())
    assert calls == [[q]]


# ---- the event loop --------------------------------------------------------

def test_new_event_loop_and_run(loop_kind):
    async def main():
        return type(asyncio.get_running_loop()).__module__

    uvloop_here = importlib.util.find_spec("uvloop") is not None
    module = evtchnx.run(main())
    assert module.startswith("uvloop") == uvloop_here
    loop = evtchnx.new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop") == uvloop_here
    finally:
        loop.close()


def test_no_uvloop_environment():
    """$EVTCHNX_NO_UVLOOP picks asyncio's own loop (in a new interpreter,
    so that the variable is read as a user would set it)."""
    code = ("import asyncio, evtchnx\n"
            "async def main():\n"
            "    return type(asyncio.get_running_loop()).__module__\n"
            "print(evtchnx.run(main()))\n")
    env = dict(os.environ, EVTCHNX_NO_UVLOOP="1")
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("asyncio")


def test_run_on_new_event_loop_ping_pong(channel):
    """A ping-pong through events() on evtchnx.run()'s loop, and a clean
    shutdown: the loop closes with the handles' readers removed."""
    a, p, b, q = channel
    assert evtchnx.run(events_ping_pong(a, p, b, q, 100)) == [100, 100]
    assert not readable(a) and not readable(b)
