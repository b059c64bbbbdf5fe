# SPDX-License-Identifier: MIT
"""asyncio integration: wait_async(), async for ... in events(), draining
per readiness event, several waiters, cancellation and closing."""

import asyncio

import pytest

import evtchnx

from conftest import readable


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


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
    n = 200

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

    async def main():
        return await asyncio.gather(pinger(), ponger())

    assert run(main()) == [n, n]


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
