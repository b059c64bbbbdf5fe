# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
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

A watch may instead carry an event handler (``Handle.add_event_handler``):
then its reader stays registered until the handler is removed, and each
readiness event calls the handler once per port taken, right inside the
loop's reader callback (no future, no task switch).  A batch handler
(``batch=True``) is called once per readiness event with every port taken,
and the ports are then unmasked together (``evtchnx_unmask_batch`` when the
C module has it, else one ``evtchnx_unmask`` per port).

The event loop: ``new_event_loop()`` is uvloop's when uvloop is installed
(and ``$EVTCHNX_NO_UVLOOP`` is not set), else asyncio's default loop.
"""

from __future__ import annotations

import asyncio
import errno as _errno
import importlib
import os
from typing import (TYPE_CHECKING, Any, Callable, Coroutine, List, Optional,
                    Sequence, Set, Tuple, TypeVar)

from . import _evtchnx as _c

if TYPE_CHECKING:  # pragma: no cover
    from . import Handle

_BATCH = 256
get_running_loop = asyncio.get_running_loop
_T = TypeVar("_T")


def _find_unmask_batch(
) -> "Optional[Callable[[_c.HandleBox, List[int]], Tuple[int, int]]]":
    """The C module's evtchnx_unmask_batch(box, ports) -> (count, errno)
    (errno 0 when every port was unmasked, else that of the port at index
    count), where the package wraps it (``Handle.unmask_batch``); else
    None: a C module without that wrapper may expose SWIG's raw binding of
    the C call, which takes a C array instead."""
    from . import Handle
    if not hasattr(Handle, "unmask_batch"):
        return None
    found: "Optional[Callable[[_c.HandleBox, List[int]], Tuple[int, int]]]" = \
        getattr(_c, "evtchnx_unmask_batch", None)
    return found


# Looked up at each call, so that it can be replaced.
_unmask_batch = _find_unmask_batch()


def unmask_ports(box: "_c.HandleBox", ports: Sequence[int]) -> None:
    """Unmask every port of ``ports``, in one C call when the module has
    ``evtchnx_unmask_batch``.  A port the program unbound meanwhile
    (ENOTCONN) is skipped, as after a single handler call; any other error
    is raised."""
    batch = _unmask_batch
    if batch is None:
        unmask = _c.evtchnx_unmask
        for port in ports:
            try:
                unmask(box, port)
            except OSError as e:
                if e.errno != _errno.ENOTCONN:
                    raise
        return
    rest = list(ports)
    while rest:
        done, err = batch(box, rest)
        if not err:
            return
        err = abs(err)
        if err != _errno.ENOTCONN or done >= len(rest):
            raise OSError(err, f"evtchnx_unmask_batch(port {rest[done]}): "
                          f"{_c.evtchnx_strerror(err)}")
        rest = rest[done + 1:]  # skip the unbound port, go on


def _uvloop_factory() -> "Optional[Callable[[], asyncio.AbstractEventLoop]]":
    if os.environ.get("EVTCHNX_NO_UVLOOP"):
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: "Callable[[], asyncio.AbstractEventLoop]" = uvloop.new_event_loop
    return factory


def new_event_loop() -> asyncio.AbstractEventLoop:
    """:func:`evtchnx.new_event_loop`."""
    factory = _uvloop_factory()
    return factory() if factory is not None else asyncio.new_event_loop()


def run(main: "Coroutine[Any, Any, _T]") -> _T:
    """:func:`evtchnx.run`."""
    runner = getattr(asyncio, "Runner", None)
    if runner is not None:  # Python >= 3.11
        with runner(loop_factory=new_event_loop) as r:
            result: _T = r.run(main)
            return result
    loop = new_event_loop()  # pragma: no cover - Python < 3.11
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
# Result of a waiter's future when its timeout expired.
_EXPIRED = object()


class _Watch:
    """The reader of one handle's fd in one event loop."""

    __slots__ = ("handle", "box", "backlog", "loop", "fd", "waiters",
                 "registered", "handler", "handler_unmask", "handler_batch")

    def __init__(self, handle: "Handle", loop: asyncio.AbstractEventLoop
                 ) -> None:
        self.handle = handle
        self.box = handle._box
        self.backlog = handle._backlog
        self.loop = loop
        self.fd = handle.fileno()
        self.waiters: "Set[asyncio.Future[object]]" = set()
        self.registered = False
        self.handler: Optional[Callable[..., Any]] = None
        self.handler_unmask = True
        self.handler_batch = False

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
        handler = self.handler
        if handler is not None:
            if self.handler_batch:
                self._dispatch_batch(handler)
            else:
                self._dispatch()
            return
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

    def set_handler(self, handler: Callable[..., Any], unmask: bool,
                    batch: bool = False) -> None:
        """Call ``handler(port)`` for every event from now on (with
        ``batch``: ``handler(ports)`` once per readiness event)."""
        self.handler = handler
        self.handler_unmask = unmask
        self.handler_batch = batch
        self.handle._handler = self
        if not self.registered:
            self.loop.add_reader(self.fd, self._on_readable)
            self.registered = True
        if self.backlog:
            # Ports already taken from the library do not make the fd
            # readable: hand them over from the loop, as events.
            self.loop.call_soon(self._dispatch_backlog)

    def clear_handler(self) -> None:
        """Stop calling the handler and drop the reader."""
        self.handler = None
        if self.handle._handler is self:
            self.handle._handler = None
        self.unregister()

    def _dispatch_backlog(self) -> None:
        if self.handler is not None and self.backlog:
            self._dispatch()

    def _dispatch(self, _batch: "Callable[[_c.HandleBox, int], List[int]]"
                  = _c.evtchnx_pending_batch,
                  _unmask: "Callable[[_c.HandleBox, int], object]"
                  = _c.evtchnx_unmask) -> None:
        """Call the handler for every port pending now.

        Ports go through the handle's backlog, so that whatever the handler
        does (removes itself, raises SystemExit, closes the handle) the
        ports not yet handed over stay queued in the handle."""
        box = self.box
        backlog = self.backlog
        handler = self.handler
        if handler is None:
            return
        if self.handler_batch:
            self._dispatch_batch(handler)
            return
        while True:
            if not backlog:
                try:
                    ports = _batch(box, _BATCH)
                except Exception as e:  # EIO, ...: stop, do not spin
                    self._take_failed(e)
                    return
                if not ports:
                    return
                backlog.extend(ports)
                last = len(ports) < _BATCH
            else:
                last = False
            while backlog:
                port = backlog.popleft()
                try:
                    handler(port)
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as e:
                    self.loop.call_exception_handler({
                        "message": "evtchnx: exception in the event handler "
                                   f"of port {port}",
                        "exception": e, "handle": self.handle,
                        "port": port})
                finally:
                    if self.handler_unmask and not box.closed:
                        try:
                            _unmask(box, port)
                        except OSError as e:
                            if e.errno != _errno.ENOTCONN:
                                raise
                if self.handler is not handler or box.closed:
                    return  # removed, replaced or closed by the handler
            if last:
                return

    def _dispatch_batch(self, handler: Callable[[List[int]], Any],
                        _batch: "Callable[[_c.HandleBox, int], List[int]]"
                        = _c.evtchnx_pending_batch,
                        _unmask: "Callable[[_c.HandleBox, int], object]"
                        = _c.evtchnx_unmask) -> None:
        """Take every pending port (256 per C call, until none is left),
        call ``handler(ports)`` once with all of them, then unmask them
        together."""
        box = self.box
        backlog = self.backlog
        try:
            ports = _batch(box, _BATCH)
            if backlog or len(ports) == _BATCH:
                # Queued ports, or more than one C batch: gather them in
                # the backlog, where they stay if a later call fails.
                backlog.extend(ports)
                while len(ports) == _BATCH:
                    ports = _batch(box, _BATCH)
                    backlog.extend(ports)
                ports = list(backlog)
                backlog.clear()
        except Exception as e:  # EIO, ...: stop, do not spin
            self._take_failed(e)
            return
        if not ports:
            return
        # Handed over: from here on they are the handler's (and unmasked
        # below whatever it does), not queued in the handle any more.
        try:
            handler(ports)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as e:
            self.loop.call_exception_handler({
                "message": "evtchnx: exception in the batch event handler "
                           f"of {len(ports)} ports",
                "exception": e, "handle": self.handle, "ports": ports})
        finally:
            if self.handler_unmask and not box.closed:
                if len(ports) == 1 and _unmask_batch is None:
                    try:
                        _unmask(box, ports[0])
                    except OSError as e:
                        if e.errno != _errno.ENOTCONN:
                            raise
                else:
                    unmask_ports(box, ports)

    def _take_failed(self, e: Exception) -> None:
        """Taking ports failed (EIO, ...): remove the handler and report,
        rather than be woken again and again."""
        self.clear_handler()
        self.loop.call_exception_handler({
            "message": "evtchnx: taking pending ports failed; "
                       "event handler removed",
            "exception": e, "handle": self.handle})

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
    no_handler(h)
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


def no_handler(h: "Handle") -> None:
    """Refuse to wait on a handle whose events go to a handler."""
    if h._handler is not None:
        raise RuntimeError("the handle's events go to its event handler "
                           "(remove_event_handler() first)")


def add_handler(h: "Handle", handler: Callable[..., Any], unmask: bool,
                loop: Optional[asyncio.AbstractEventLoop],
                batch: bool = False) -> None:
    """:meth:`evtchnx.Handle.add_event_handler`."""
    if not callable(handler):
        raise TypeError("handler must be callable")
    h._box_open()
    if loop is None:
        loop = get_running_loop()
    if h._handler is not None:
        raise RuntimeError("the handle has an event handler already")
    for lp, w in list(h._watches.items()):
        if w.waiters:
            raise RuntimeError("tasks are waiting on the handle "
                               "(wait_async() or events())")
        if lp.is_closed():
            del h._watches[lp]
    watch = h._watches.get(loop)
    if watch is None:
        watch = h._watches[loop] = _Watch(h, loop)
    watch.set_handler(handler, unmask, batch)


def remove_handler(h: "Handle") -> bool:
    """:meth:`evtchnx.Handle.remove_event_handler`."""
    watch = h._handler
    if watch is None:
        return False
    watch.clear_handler()
    return True


def close_watches(h: "Handle") -> None:
    """Before ``h`` closes: drop its readers and fail its waiters."""
    h._handler = None
    for watch in list(h._watches.values()):
        watch.handler = None
        watch.unregister()
        watch.fail(ValueError("handle is closed"))
    h._watches.clear()
