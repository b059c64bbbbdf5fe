# SPDX-License-Identifier: LGPL-2.1-or-later
"""asyncio integration of :class:`evtchnx.Handle` (used by
``Handle.wait_async`` and ``Handle.events``; not a public module).

One watch per (handle, event loop) owns the loop's reader on the handle's
fd, so any number of tasks can wait on one handle.  Each time the fd becomes
readable, the watch drains every pending port into the handle's backlog
(``evtchnx_pending_batch``, 256 ports per call, until none is left) and
wakes the waiting tasks, which take ports from the backlog.  The fd is
level-triggered, so the reader is dropped as soon as nobody waits (an
undrained fd would otherwise wake the loop over and over) and added again
by the next waiter.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable, List, Optional, Set

from . import _evtchnx as _c

if TYPE_CHECKING:  # pragma: no cover
    from . import Handle

_BATCH = 256
get_running_loop = asyncio.get_running_loop
# Result of a waiter's future when its timeout expired.
_EXPIRED = object()


class _Watch:
    """The reader of one handle's fd in one event loop."""

    __slots__ = ("handle", "box", "backlog", "loop", "fd", "waiters",
                 "registered")

    def __init__(self, handle: "Handle", loop: asyncio.AbstractEventLoop
                 ) -> None:
        self.handle = handle
        self.box = handle._box
        self.backlog = handle._backlog
        self.loop = loop
        self.fd = handle.fileno()
        self.waiters: "Set[asyncio.Future[object]]" = set()
        self.registered = False

    def add(self, fut: "asyncio.Future[object]") -> None:
        """Wake ``fut`` at the next readiness event."""
        self.waiters.add(fut)
        if not self.registered:
            self.loop.add_reader(self.fd, self._on_readable)
            self.registered = True

    def unregister(self) -> None:
        """Drop the loop's reader, if this watch holds one."""
        if self.registered:
            self.registered = False
            if not self.loop.is_closed():
                self.loop.remove_reader(self.fd)

    def _on_readable(self, _batch: "Callable[[_c.HandleBox, int], List[int]]"
                     = _c.evtchnx_pending_batch) -> None:
        try:
            ports = _batch(self.box, _BATCH)
            self.backlog.extend(ports)
            while len(ports) == _BATCH:
                ports = _batch(self.box, _BATCH)
                self.backlog.extend(ports)
        except BaseException as e:  # closed handle, EIO, ...: tell waiters
            self.unregister()
            self.fail(e)
            if not isinstance(e, Exception):
                raise
            return
        waiters = self.waiters
        if not waiters:
            self.unregister()
            return
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        waiters.clear()

    def fail(self, exc: BaseException) -> None:
        """Raise ``exc`` in every waiting task."""
        for fut in self.waiters:
            if not fut.done():
                fut.set_exception(exc)
        self.waiters.clear()


def _expire(fut: "asyncio.Future[object]") -> None:
    if not fut.done():
        fut.set_result(_EXPIRED)


def new_watch(h: "Handle", loop: asyncio.AbstractEventLoop) -> _Watch:
    """The watch of ``h`` in ``loop`` (the handle must be open)."""
    h._box_open()
    for old in [lp for lp in h._watches if lp.is_closed()]:
        del h._watches[old]
    watch = h._watches[loop] = _Watch(h, loop)
    return watch


async def wait_timeout(h: "Handle", loop: asyncio.AbstractEventLoop,
                       watch: _Watch, timeout: float) -> Optional[int]:
    """:meth:`evtchnx.Handle.wait_async` with a timeout (the backlog was
    empty)."""
    from . import _timeout_ms
    _timeout_ms(timeout)  # validates
    backlog = h._backlog
    deadline = loop.time() + timeout
    while not backlog:
        left = deadline - loop.time()
        if left <= 0:
            # Last chance: a port that became pending just now.
            h._box_open()
            return _c.evtchnx_pending(h._box)
        fut = loop.create_future()
        timer = loop.call_later(left, _expire, fut)
        watch.add(fut)
        try:
            await fut
        finally:
            watch.waiters.discard(fut)
            timer.cancel()
    return backlog.popleft()


def close_watches(h: "Handle") -> None:
    """Before ``h`` closes: drop its readers and fail its waiters."""
    for watch in list(h._watches.values()):
        watch.unregister()
        watch.fail(ValueError("handle is closed"))
    h._watches.clear()
