# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Xen event channels for Python, with or without Xen.

A thin, typed layer over the C library ``libevtchnx.so.1``::

    import evtchnx

    with evtchnx.Handle("sim") as dom0, evtchnx.Handle("sim", domid=1) as guest:
        port = dom0.alloc_unbound(1)              # offered to domain 1
        gport = guest.bind_interdomain(0, port)   # -> the guest's end
        guest.pending()                           # binding leaves it pending
        guest.unmask(gport)
        dom0.send(port)
        assert guest.wait(1.0) == gport

Targets: ``"xen"`` (a real Xen host), ``"sim"`` (a lab private to this
process), ``"sim:NAME"`` (a lab shared by processes), or ``None`` to let the
library choose (``$EVTCHNX_TARGET``, else ``xen`` when ``/dev/xen/evtchn``
exists, else ``sim``).

Errors: every failing C call raises :class:`OSError` (Python picks the
subclass from the errno: ``PermissionError`` for EPERM,
``FileNotFoundError`` for ENOENT, ...).  ``exc.errno`` is the C errno and
the message names the C call and what it was given: the port, the domain,
the target (and so the lab), e.g. ``[Errno 107] evtchnx_send(port 7):
Transport endpoint is not connected`` or ``[Errno 111]
evtchnx_open('sim:lab1', domid 3): Connection refused``.  Two outcomes are
not errors and return ``None`` instead: :meth:`Handle.pending` when nothing
is pending, and :meth:`Handle.wait` / :meth:`Handle.wait_async` when the
timeout expires.
Using a closed handle raises ``ValueError("handle is closed")``; ports and
domain ids outside ``0 .. 2**32-1`` raise ``OverflowError``, non-integers
``TypeError``.

Batches (:meth:`Handle.alloc_unbound_batch` and the other ``*_batch``
methods) return the whole result or raise: when an element fails, the
exception is a :class:`BatchError` (and also the ``OSError`` subclass the
errno picks, so ``except PermissionError`` still works) that carries what
was done before that element in ``exc.done`` and ``exc.ports`` /
``exc.statuses``: no port allocated by a failed batch is lost.
"""

from __future__ import annotations

import collections
import enum
import errno as _errno
import os
import weakref
from typing import (TYPE_CHECKING, Any, AsyncIterator, Callable, Coroutine,
                    Deque, Dict, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple, TypeVar, cast)

from . import _evtchnx as _c

if TYPE_CHECKING:  # pragma: no cover
    import asyncio
    from types import ModuleType, TracebackType
    from typing import Type

    from ._asyncio import _Watch

__all__ = [
    "Handle", "PortStatus", "State", "BatchError",
    "DOMID_SELF", "DOMID_FIRST_RESERVED", "SIM_MAX_PORTS", "SIM_MAX_DOMAINS",
    "NR_VIRQS", "OPEN_NO_SPAWN", "OPEN_SINGLE_THREAD", "OPEN_STRICT",
    "STATE_CLOSED", "STATE_UNBOUND", "STATE_INTERDOMAIN", "STATE_PIRQ",
    "STATE_VIRQ", "STATE_IPI",
    "VERSION", "version", "strerror", "__version__",
    "new_event_loop", "run",
]

#: The caller's own domain, where a domain id is expected.
DOMID_SELF: int = _c.EVTCHNX_DOMID_SELF
#: Domain ids from this value upwards are reserved.
DOMID_FIRST_RESERVED: int = _c.EVTCHNX_DOMID_FIRST_RESERVED
#: Ports per domain in the sim (port 0 is reserved).
SIM_MAX_PORTS: int = _c.EVTCHNX_SIM_MAX_PORTS
#: Domains in one sim lab, the control domain included.
SIM_MAX_DOMAINS: int = _c.EVTCHNX_SIM_MAX_DOMAINS
#: Number of virtual IRQs (VIRQ_TIMER = 0 ... VIRQ_ARCH_7 = 23).
NR_VIRQS: int = _c.EVTCHNX_NR_VIRQS
#: Open flag: for ``sim:NAME``, fail with ConnectionRefusedError instead of
#: starting a lab server.
OPEN_NO_SPAWN: int = _c.EVTCHNX_OPEN_NO_SPAWN
OPEN_SINGLE_THREAD: int = _c.EVTCHNX_OPEN_SINGLE_THREAD
OPEN_STRICT: int = _c.EVTCHNX_OPEN_STRICT
#: Version of the header the binding was built against ("1.0.0").
VERSION: str = _c.EVTCHNX_VERSION_STRING
#: The version of this package: that of the header it was built against
#: (also its distribution metadata, ``importlib.metadata.version("evtchnx")``,
#: when installed with pip).
__version__: str = VERSION


class State(enum.IntEnum):
    """State of a port, as reported by :meth:`Handle.status` (Xen's
    ``EVTCHNSTAT_*`` values)."""

    #: Free, or the reserved port 0.
    CLOSED = _c.EVTCHNX_STATE_CLOSED
    #: Allocated and offered to ``remote_domid``.
    UNBOUND = _c.EVTCHNX_STATE_UNBOUND
    #: Linked to (``remote_domid``, ``remote_port``).
    INTERDOMAIN = _c.EVTCHNX_STATE_INTERDOMAIN
    #: A physical IRQ (never in the sim).
    PIRQ = _c.EVTCHNX_STATE_PIRQ
    #: Bound to the virtual IRQ ``virq``.
    VIRQ = _c.EVTCHNX_STATE_VIRQ
    #: An inter-vCPU channel.
    IPI = _c.EVTCHNX_STATE_IPI


#: Port state: free, or the reserved port 0.
STATE_CLOSED = State.CLOSED
#: Port state: offered to a remote domain.
STATE_UNBOUND = State.UNBOUND
#: Port state: connected to a remote port.
STATE_INTERDOMAIN = State.INTERDOMAIN
#: Port state: a physical IRQ.
STATE_PIRQ = State.PIRQ
#: Port state: bound to a virtual IRQ.
STATE_VIRQ = State.VIRQ
#: Port state: an inter-vCPU channel.
STATE_IPI = State.IPI


class PortStatus(NamedTuple):
    """What :meth:`Handle.status` reports about one port."""

    #: The port's state.
    state: State
    #: The vCPU notified (0 in the sim).
    vcpu: int
    #: UNBOUND: the domain it is offered to; INTERDOMAIN: the peer domain.
    remote_domid: int
    #: INTERDOMAIN: the peer's port.
    remote_port: int
    #: VIRQ: the virtual IRQ number.
    virq: int


def version() -> str:
    """Return the version of the loaded C library, ``"MAJOR.MINOR.PATCH"``
    (compare with :data:`VERSION`, the header the binding was built
    with)."""
    return _c.evtchnx_version()


def strerror(err: int) -> str:
    """Describe an errno value (negative or positive) as the C library
    does."""
    return _c.evtchnx_strerror(err)


def _dom(dom: int) -> str:
    return "DOMID_SELF" if dom == DOMID_SELF else str(dom)


def _named(e: OSError, what: str) -> OSError:
    """The same error (type and errno) with a message that names the call
    and its objects: ``what`` is e.g. ``"evtchnx_send(port 7)"``."""
    err = e.errno
    if err is None:  # pragma: no cover - the C layer always sets one
        return e
    return type(e)(err, f"{what}: {strerror(err)}")


class BatchError(OSError):
    """A batch call failed at element number :attr:`done` (0-based) of its
    input; the elements before it were done and stand.

    The exception raised is also an instance of the ``OSError`` subclass
    that its errno picks (``PermissionError`` for EPERM, ...); its message
    names the call, the failing element and its port or domain, e.g.
    ``[Errno 107] evtchnx_unbind_batch(ports[2] = 9, 2 of 4 done):
    Transport endpoint is not connected``.
    """

    #: How many elements were done before the failing one (which is
    #: ``input[done]``).
    done: int
    #: :meth:`Handle.alloc_unbound_batch`, :meth:`Handle.bind_interdomain_batch`:
    #: the ports allocated or bound before the failure (they belong to the
    #: handle: keep or unbind them); :meth:`Handle.unbind_batch`,
    #: :meth:`Handle.unmask_batch`: the ports unbound or unmasked;
    #: :meth:`Handle.status_batch`: the ports described.
    ports: List[int]
    #: :meth:`Handle.status_batch`: the statuses of ``ports``; else empty.
    statuses: List["PortStatus"]


# The BatchError class for each OSError subclass.
_batch_errors: "Dict[type, Type[BatchError]]" = {OSError: BatchError}


def _batch_error(err: int, what: str, done: int, ports: List[int],
                 statuses: "Optional[List[PortStatus]]" = None
                 ) -> BatchError:
    """A BatchError for positive errno ``err`` whose message names ``what``
    (the call and the failing element)."""
    base = type(OSError(err, ""))
    cls = _batch_errors.get(base)
    if cls is None:
        cls = cast("Type[BatchError]",
                   type("Batch" + base.__name__, (BatchError, base),
                        {"__module__": __name__,
                         "__doc__": BatchError.__doc__}))
        _batch_errors[base] = cls
    e = cls(err, f"{what}: {strerror(err)}")
    e.done = done
    e.ports = ports
    e.statuses = statuses if statuses is not None else []
    return e


def _ports_arg(ports: "Sequence[int]", what: str) -> List[int]:
    """The ports of a batch as a list (the C layer checks each one)."""
    if isinstance(ports, (str, bytes)) or not hasattr(ports, "__len__"):
        raise TypeError(f"{what} must be a sequence of ints, not "
                        + type(ports).__name__)
    return list(ports)


def _status_of(t: "Tuple[int, int, int, int, int]") -> "PortStatus":
    state, vcpu, rdom, rport, virq = t
    try:
        st = State(state)
    except ValueError:  # a state newer than this binding
        st = state  # type: ignore[assignment]
    return PortStatus(st, vcpu, rdom, rport, virq)


# Largest timeout one C wait can take, in milliseconds.
_WAIT_MAX_MS = 2**31 - 1
# Ports taken per evtchnx_pending_batch() call when draining.
_BATCH = 256

# Every open Handle, so that a forked child can drop what its parent had
# taken but not yet returned (the child must not use inherited handles).
_handles: "weakref.WeakSet[Handle]" = weakref.WeakSet()


# evtchnx._asyncio, imported on first use (it imports asyncio).
_aio: "Optional[ModuleType]" = None

# Marks an argument the caller did not give (None is a wrong value, not a
# default).
_UNSET: Any = object()


def _load_asyncio() -> "ModuleType":
    global _aio
    from . import _asyncio
    _aio = _asyncio
    return _asyncio


_T = TypeVar("_T")


def new_event_loop() -> "asyncio.AbstractEventLoop":
    """A new asyncio event loop for evtchnx programs: uvloop's when the
    ``uvloop`` package is installed (Debian's python3-uvloop) and
    ``$EVTCHNX_NO_UVLOOP`` is not set, else asyncio's default loop.  The
    handle's asyncio API works with either; uvloop's is the faster.
    Pass it as ``asyncio.Runner(loop_factory=evtchnx.new_event_loop)``,
    or use :func:`run`."""
    loop: "asyncio.AbstractEventLoop" = (
        _aio or _load_asyncio()).new_event_loop()
    return loop


def run(main: "Coroutine[Any, Any, _T]") -> _T:
    """``asyncio.run(main)`` on :func:`new_event_loop` (uvloop when
    installed); returns what ``main`` returns."""
    result: _T = (_aio or _load_asyncio()).run(main)
    return result


def _after_fork_in_child() -> None:
    for h in list(_handles):
        h._backlog.clear()
        h._watches.clear()
        h._handler = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _timeout_ms(seconds: float) -> int:
    """Convert a timeout in seconds to whole milliseconds, rounding up;
    timeouts beyond 2**31-1 ms (24.8 days) are capped there."""
    if not seconds >= 0:  # also NaN
        raise ValueError("timeout must be a non-negative number or None")
    ms = seconds * 1000.0
    if ms >= _WAIT_MAX_MS:
        return _WAIT_MAX_MS
    whole = int(ms)
    return whole if whole == ms else whole + 1


class Handle:
    """An open evtchnx handle: a set of ports of one domain.

    ``Handle("sim")`` joins this process's private lab as the control
    domain 0; ``Handle("sim:NAME", domid=1)`` joins the shared lab NAME as
    domain 1 (starting its lab server if needed); ``Handle("xen")`` opens
    the Xen backend; ``Handle()`` lets the library choose.

    The handle is a context manager and closes itself when garbage-collected;
    :meth:`fileno` makes it usable with :mod:`selectors` and :mod:`asyncio`.
    Every port it allocates or binds belongs to it and is closed with it.

    Delivery follows Xen: a port returned by :meth:`pending`, :meth:`wait`
    or :meth:`wait_async` is *masked* until you call :meth:`unmask`; events
    that arrive meanwhile are latched, not lost.  Iterating (``for port in
    handle`` or ``async for port in handle.events()``) unmasks each port for
    you once the loop body has handled it.

    A handle may be used from several threads.  :meth:`close` while another
    thread blocks in :meth:`wait` raises ``RuntimeError``.  After
    :func:`os.fork`, the child must not use an inherited handle: its calls
    raise ``OSError(EBADF)``; open a new one in the child.

    :param target: ``"xen"``, ``"sim"``, ``"sim:NAME"``, or ``None``/``""``
        for auto-selection.
    :param domid: in the sim, the domain this handle joins as (default 0,
        the control domain); ignored by the xen backend.
    :param flags: :data:`OPEN_NO_SPAWN`, :data:`OPEN_SINGLE_THREAD` (you
        promise that one thread at a time calls the handle: no lock is
        taken), or 0.
    :param busy_poll_ns: :meth:`wait` first looks for an event for up to
        this many nanoseconds, spinning on the CPU, before it sleeps: less
        latency for more CPU time.  0 (the default) never spins; at most
        10**9 (else ``OSError(EINVAL)``).
    :raises OSError: the C ``evtchnx_open`` failed (errno kept, e.g.
        ``ENODEV`` for ``"xen"`` on a machine without Xen).
    """

    __slots__ = ("_box", "_backlog", "_watches", "_handler", "__weakref__")

    _box: "_c.HandleBox"
    _backlog: Deque[int]
    _watches: "Dict[asyncio.AbstractEventLoop, _Watch]"
    # The watch whose event handler takes this handle's events, if any.
    _handler: "Optional[_Watch]"

    def __init__(self, target: Optional[str] = None, *, domid: int = 0,
                 flags: int = 0, busy_poll_ns: int = 0) -> None:
        if target is not None:
            if not isinstance(target, str):
                raise TypeError("target must be a str or None, not "
                                + type(target).__name__)
            if "\0" in target:
                raise ValueError("target contains a NUL character")
        for name, value in (("domid", domid), ("flags", flags),
                            ("busy_poll_ns", busy_poll_ns)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not "
                                + type(value).__name__)
        opts = _c.evtchnx_open_opts(domid, flags, busy_poll_ns)
        try:
            self._box = _c.evtchnx_open(target, opts)
        except OSError as e:
            poll = f", busy_poll_ns {busy_poll_ns}" if busy_poll_ns else ""
            raise _named(e, f"evtchnx_open({target!r}, domid {domid}{poll})"
                         ) from None
        self._backlog = collections.deque()
        self._watches = {}
        self._handler = None
        _handles.add(self)

    # ---- life cycle --------------------------------------------------

    def close(self) -> None:
        """Close the handle and every port it owns (remote ends go back to
        UNBOUND).  Closing twice is harmless.

        :raises RuntimeError: another thread is blocked in :meth:`wait`
            or runs a batch (the ``*_batch`` methods release the GIL).
        """
        box = getattr(self, "_box", None)
        if box is None or box.closed:
            return
        if box.busy:
            raise RuntimeError("handle is in use by a blocking wait() or "
                               "batch in another thread")
        if self._watches:
            (_aio or _load_asyncio()).close_watches(self)
        _c.evtchnx_close(box)
        self._backlog.clear()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        box = getattr(self, "_box", None)
        return box is None or box.closed

    def __enter__(self) -> "Handle":
        self._box_open()
        return self

    def __exit__(self, exc_type: "Optional[Type[BaseException]]",
                 exc: Optional[BaseException],
                 tb: "Optional[TracebackType]") -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<evtchnx.Handle closed>"
        try:
            return (f"<evtchnx.Handle backend={self.backend!r} "
                    f"domid={self.domid} fd={self.fileno()}>")
        except OSError as e:
            return f"<evtchnx.Handle unusable: {e}>"

    def _box_open(self) -> "_c.HandleBox":
        box = self._box
        if box.closed:
            raise ValueError("handle is closed")
        return box

    # ---- properties --------------------------------------------------

    def fileno(self) -> int:
        """The handle's pollable descriptor: readable whenever the library
        has an event to take (and, at times, spuriously: :meth:`pending`
        then returns ``None`` and clears it).  Owned by the handle: do not
        read, write or close it.

        Ports the handle has already taken from the library but not yet
        returned (left over by an iteration that was left early, or by the
        asyncio drain) do not make it readable: :meth:`pending`,
        :meth:`wait` and the iterations return them first, so drain with
        :meth:`pending` until ``None`` before going back to polling."""
        return _c.evtchnx_fd(self._box)

    @property
    def domid(self) -> int:
        """The domain this handle acts as (on Xen, the domain the program
        runs in)."""
        return _c.evtchnx_domid(self._box)

    @property
    def backend(self) -> str:
        """The backend behind the handle: ``"sim"`` or ``"xen"``."""
        return _c.evtchnx_backend(self._box)

    # ---- ports -------------------------------------------------------

    def alloc_unbound(
        self,
        *args: int,
        dom: int = _UNSET,
        remote_dom: int = _UNSET,
    ) -> int:
        """Allocate a port offered to a remote domain and return it
        (EVTCHNOP_alloc_unbound).

        Call it as ``alloc_unbound(remote_dom)`` (a port in this handle's
        domain), or in the C order ``alloc_unbound(dom, remote_dom)``, or
        with keywords ``alloc_unbound(dom=..., remote_dom=...)``.

        :param remote_dom: the only domain allowed to bind the port
            (:data:`DOMID_SELF` stands for this handle's domain).
        :param dom: the domain the port is allocated in: this one by
            default; the control domain may name another (the port then
            belongs to no handle until that domain :meth:`adopt` s it).
        :raises OSError: ESRCH (no such domain), ENOSPC (no free port),
            EPERM (another domain, not the control domain), EACCES
            (restricted handle), EINVAL (domid above 0xFFFF).
        :raises TypeError: the arguments fit none of the forms above.
        """
        if len(args) == 2 and dom is _UNSET and remote_dom is _UNSET:
            dom, remote_dom = args
        elif len(args) == 1 and remote_dom is _UNSET:
            remote_dom = args[0]
        elif args or remote_dom is _UNSET:
            raise TypeError(
                "alloc_unbound(remote_dom, *, dom=DOMID_SELF) or "
                "alloc_unbound(dom, remote_dom)"
            )
        if dom is _UNSET:
            dom = DOMID_SELF
        try:
            return _c.evtchnx_alloc_unbound(self._box, dom, remote_dom)
        except OSError as e:
            raise _named(e, f"evtchnx_alloc_unbound(dom {_dom(dom)}, "
                         f"remote_dom {_dom(remote_dom)})") from None

    def bind_interdomain(self, remote_dom: int, remote_port: int) -> int:
        """Connect a new local port to ``remote_port`` of ``remote_dom``
        and return the local port (EVTCHNOP_bind_interdomain).

        The new port is left pending, as on Xen: expect one spurious event.

        :raises OSError: EINVAL (the remote port is not UNBOUND or not
            offered to this domain), ESRCH, ENOSPC, EACCES.
        """
        try:
            return _c.evtchnx_bind_interdomain(self._box, remote_dom,
                                               remote_port)
        except OSError as e:
            raise _named(e, "evtchnx_bind_interdomain(remote_dom "
                         f"{_dom(remote_dom)}, remote_port {remote_port})"
                         ) from None

    def bind_virq(self, virq: int) -> int:
        """Bind a new port to virtual IRQ ``virq`` on vCPU 0 and return it.

        :raises OSError: EINVAL (virq >= :data:`NR_VIRQS`), EEXIST (already
            bound), EBUSY (a global virq handled by another domain), ENOSPC,
            EACCES.
        """
        try:
            return _c.evtchnx_bind_virq(self._box, virq)
        except OSError as e:
            raise _named(e, f"evtchnx_bind_virq(virq {virq})") from None

    def adopt(self, port: int) -> None:
        """Take ownership of a port the control domain allocated in this
        handle's domain.

        :raises OSError: EINVAL (port free or out of range), EBUSY (owned by
            a handle already), EACCES, EOPNOTSUPP.
        """
        try:
            _c.evtchnx_adopt(self._box, port)
        except OSError as e:
            raise _named(e, f"evtchnx_adopt(port {port})") from None

    def send(self, port: int) -> None:
        """Raise an event on the other end of ``port`` (EVTCHNOP_send).  On
        an UNBOUND port the event is dropped, as on Xen.

        :raises OSError: EINVAL (port 0, out of range, a VIRQ port),
            ENOTCONN (not a port of this handle).
        """
        try:
            _c.evtchnx_send(self._box, port)
        except OSError as e:
            raise _named(e, f"evtchnx_send(port {port})") from None

    def unbind(self, port: int) -> None:
        """Close one of the handle's ports (EVTCHNOP_close); the remote end
        goes back to UNBOUND and is not notified.

        :raises OSError: EINVAL, ENOTCONN (not owned, or closed already).
        """
        try:
            _c.evtchnx_unbind(self._box, port)
        except OSError as e:
            raise _named(e, f"evtchnx_unbind(port {port})") from None
        if port in self._backlog:
            self._backlog.remove(port)

    def status(self, port: int, *, dom: int = DOMID_SELF) -> PortStatus:
        """Describe ``port`` of domain ``dom`` (EVTCHNOP_status).

        To learn that a peer went away (Xen sends no event for that), look
        for ``State.UNBOUND`` on your end of the channel.

        :raises OSError: ESRCH (no such domain), EPERM (another domain, not
            the control domain), EINVAL (port beyond the port table).
        """
        try:
            raw = _c.evtchnx_status(self._box, dom, port)
        except OSError as e:
            raise _named(e, f"evtchnx_status(dom {_dom(dom)}, port {port})"
                         ) from None
        return _status_of(raw)

    # ---- batches -----------------------------------------------------

    def alloc_unbound_batch(self, dom: int, remote_dom: int,
                            n: int) -> List[int]:
        """Allocate ``n`` ports in ``dom`` offered to ``remote_dom`` and
        return them: the ports ``n`` calls of :meth:`alloc_unbound` would
        return, in as few requests as the backend can.

        :param dom: :data:`DOMID_SELF`, this domain, or (control domain)
            another domain.
        :param remote_dom: the only domain allowed to bind the ports.
        :param n: how many, 0 .. :data:`SIM_MAX_PORTS`.
        :raises BatchError: an allocation failed (errno as for
            :meth:`alloc_unbound`); ``exc.ports`` holds the ports allocated
            before it, which stay allocated.
        :raises ValueError: ``n`` above :data:`SIM_MAX_PORTS`.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("n must be an int, not " + type(n).__name__)
        if n < 0:
            raise ValueError("n must not be negative")
        ports, err = _c.evtchnx_alloc_unbound_batch(self._box, dom,
                                                    remote_dom, n)
        if err:
            raise _batch_error(
                err, f"evtchnx_alloc_unbound_batch(dom {_dom(dom)}, "
                f"remote_dom {_dom(remote_dom)}, {len(ports)} of {n} done)",
                len(ports), ports) from None
        return ports

    def bind_interdomain_batch(self, remote_dom: int,
                               remote_ports: Sequence[int]) -> List[int]:
        """Connect a new local port to each of ``remote_ports`` of
        ``remote_dom`` and return the local ports, in order (as that many
        :meth:`bind_interdomain` calls; each new port is left pending).

        :raises BatchError: a bind failed (errno as for
            :meth:`bind_interdomain`); ``exc.ports`` holds the local ports
            bound before it, which stay bound.
        """
        rports = _ports_arg(remote_ports, "remote_ports")
        ports, err = _c.evtchnx_bind_interdomain_batch(self._box, remote_dom,
                                                       rports)
        if err:
            i = len(ports)
            raise _batch_error(
                err, f"evtchnx_bind_interdomain_batch(remote_dom "
                f"{_dom(remote_dom)}, remote_ports[{i}] = {rports[i]}, "
                f"{i} of {len(rports)} done)", i, ports) from None
        return ports

    def unbind_batch(self, ports: Sequence[int]) -> int:
        """Close each of ``ports`` (as :meth:`unbind`), in order; return
        how many (``len(ports)``).

        :raises BatchError: an unbind failed (EINVAL, ENOTCONN);
            ``exc.ports`` holds the ports closed before it.
        """
        plist = _ports_arg(ports, "ports")
        done, err = _c.evtchnx_unbind_batch(self._box, plist)
        backlog = self._backlog
        if backlog:
            closed = set(plist[:done])
            for port in [p for p in backlog if p in closed]:
                backlog.remove(port)
        if err:
            raise _batch_error(
                err, f"evtchnx_unbind_batch(ports[{done}] = {plist[done]}, "
                f"{done} of {len(plist)} done)", done, plist[:done]
            ) from None
        return done

    def unmask_batch(self, ports: Sequence[int]) -> int:
        """Unmask each of ``ports`` (as :meth:`unmask`), in order; return
        how many (``len(ports)``).  Events latched on them are delivered.

        :raises BatchError: an unmask failed (EINVAL, ENOTCONN);
            ``exc.ports`` holds the ports unmasked before it.
        """
        plist = _ports_arg(ports, "ports")
        done, err = _c.evtchnx_unmask_batch(self._box, plist)
        if err:
            raise _batch_error(
                err, f"evtchnx_unmask_batch(ports[{done}] = {plist[done]}, "
                f"{done} of {len(plist)} done)", done, plist[:done]
            ) from None
        return done

    def status_batch(self, dom: int,
                     ports: Sequence[int]) -> List[PortStatus]:
        """Describe each of ``ports`` of domain ``dom`` (as :meth:`status`),
        in order.

        :raises BatchError: a status failed (errno as for :meth:`status`);
            ``exc.statuses`` holds the statuses before it.
        """
        plist = _ports_arg(ports, "ports")
        raw, err = _c.evtchnx_status_batch(self._box, dom, plist)
        statuses = [_status_of(t) for t in raw]
        if err:
            i = len(raw)
            raise _batch_error(
                err, f"evtchnx_status_batch(dom {_dom(dom)}, ports[{i}] = "
                f"{plist[i]}, {i} of {len(plist)} done)", i, plist[:i],
                statuses) from None
        return statuses

    def reset(self, dom: int = DOMID_SELF) -> None:
        """Close every port of domain ``dom`` (EVTCHNOP_reset); the next
        allocation there returns port 1 again.

        :raises OSError: ESRCH, EPERM, EINVAL.
        """
        try:
            _c.evtchnx_reset(self._box, dom)
        except OSError as e:
            raise _named(e, f"evtchnx_reset(dom {_dom(dom)})") from None
        if self._backlog and dom in (DOMID_SELF, self.domid):
            self._backlog.clear()

    def restrict(self, domid: int) -> None:
        """Restrict the handle to channels with ``domid`` (only
        :meth:`bind_interdomain` to it remains allowed).  Cannot be undone.

        :raises OSError: EACCES (already restricted), EINVAL.
        """
        try:
            _c.evtchnx_restrict(self._box, domid)
        except OSError as e:
            raise _named(e, f"evtchnx_restrict(domid {_dom(domid)})") from None

    # ---- delivery ----------------------------------------------------

    def pending(self) -> Optional[int]:
        """Take the next pending port without blocking, or return ``None``
        when none is pending.  The port stays masked until
        :meth:`unmask`."""
        if self._backlog:
            self._box_open()
            return self._backlog.popleft()
        return _c.evtchnx_pending(self._box)

    def pending_batch(self, max: int = _BATCH) -> List[int]:
        """Take up to ``max`` pending ports at once (each stays masked until
        :meth:`unmask`); an empty list when none is pending.

        :raises ValueError: ``max`` < 1.
        """
        if isinstance(max, bool) or not isinstance(max, int):
            raise TypeError("max must be an int, not " + type(max).__name__)
        if max < 1:
            raise ValueError("max must be at least 1")
        out: List[int] = []
        backlog = self._backlog
        if backlog:
            self._box_open()
            while backlog and len(out) < max:
                out.append(backlog.popleft())
            if len(out) == max:
                return out
        out.extend(_c.evtchnx_pending_batch(self._box, max - len(out)))
        return out

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Block until a port is pending and take it (it stays masked
        until :meth:`unmask`).

        The GIL is released while waiting.  A signal handler that raises
        (e.g. ``KeyboardInterrupt``) ends the wait with its exception; after
        one that does not, the wait goes on for the time left (PEP 475).

        :param timeout: seconds (fractions allowed, rounded up to whole
            milliseconds, at most 24.8 days); ``None`` waits forever, 0
            polls.
        :returns: the port, or ``None`` when the timeout expired.
        """
        if self._backlog:
            self._box_open()
            return self._backlog.popleft()
        return _c.evtchnx_wait(self._box, -1 if timeout is None
                               else _timeout_ms(timeout))

    def unmask(self, port: int) -> None:
        """Re-enable delivery on ``port``; an event that arrived since the
        port was taken becomes deliverable again now.

        :raises OSError: EINVAL, ENOTCONN (not a port of this handle).
        """
        try:
            _c.evtchnx_unmask(self._box, port)
        except OSError as e:
            raise _named(e, f"evtchnx_unmask(port {port})") from None

    def is_pending(self, port: int) -> bool:
        """Whether an event on ``port`` waits to be taken (also one latched
        while the port is masked), without taking it.

        :raises OSError: EINVAL, ENOTCONN.
        """
        if port in self._backlog:
            return True
        try:
            return bool(_c.evtchnx_is_pending(self._box, port))
        except OSError as e:
            raise _named(e, f"evtchnx_is_pending(port {port})") from None

    def drain(self, *, unmask: bool = True) -> Iterator[int]:
        """Yield every port pending now, without blocking.

        With ``unmask=True`` (the default) each port is unmasked when the
        loop body has handled it (also when the loop is left early); ports
        taken but not yet yielded when the loop is left are kept and
        returned by the next :meth:`pending`, :meth:`wait` or iteration.
        ``for port in handle`` is ``handle.drain()``.
        """
        backlog = self._backlog
        while True:
            if not backlog:
                backlog.extend(_c.evtchnx_pending_batch(self._box, _BATCH))
                if not backlog:
                    return
            port = backlog.popleft()
            try:
                yield port
            finally:
                if unmask:
                    self._unmask_after(port)

    def __iter__(self) -> Iterator[int]:
        """``for port in handle``: the ports pending now (see
        :meth:`drain`)."""
        return self.drain()

    def _unmask_after(self, port: int) -> None:
        # The loop body may have unbound the port or closed the handle:
        # then there is nothing to unmask.
        box = self._box
        if box.closed:
            return
        try:
            _c.evtchnx_unmask(box, port)
        except OSError as e:
            if e.errno != _errno.ENOTCONN:
                raise

    # ---- asyncio -----------------------------------------------------

    async def wait_async(self, timeout: Optional[float] = None
                         ) -> Optional[int]:
        """Wait for the next pending port in the running asyncio loop and
        take it (it stays masked until :meth:`unmask`).

        The handle's fd is watched with ``loop.add_reader``; each readiness
        event drains every pending port at once (one C call per 256 ports).

        :param timeout: seconds; ``None`` waits forever.
        :returns: the port, or ``None`` when the timeout expired.
        """
        if self._handler is not None:
            (_aio or _load_asyncio()).no_handler(self)
        backlog = self._backlog
        if backlog:
            self._box_open()
            return backlog.popleft()
        aio = _aio or _load_asyncio()
        loop = aio.get_running_loop()
        watch = self._watches.get(loop)
        if watch is None:
            watch = aio.new_watch(self, loop)
        if timeout is not None:
            port: Optional[int] = await aio.wait_timeout(self, loop, watch,
                                                         timeout)
            return port
        while not backlog:
            fut = loop.create_future()
            watch.add(fut)
            try:
                await fut
            finally:
                watch.waiters.discard(fut)
        return backlog.popleft()

    async def events(self, *, unmask: bool = True) -> AsyncIterator[int]:
        """``async for port in handle.events()``: every event, forever.

        Each readiness event of the fd drains all pending ports; they are
        yielded one by one.  With ``unmask=True`` (the default) a port is
        unmasked when the loop body has handled it (if the body unbound the
        port, there is nothing to unmask).  Ports taken but not yet yielded
        when the loop is left are kept for the next call that takes one.
        """
        box = self._box
        backlog = self._backlog
        aio = _aio or _load_asyncio()
        loop = aio.get_running_loop()
        unmask_port = _c.evtchnx_unmask
        while True:
            # The same wait as wait_async(), inlined: one coroutine less
            # per event.
            if self._handler is not None:
                aio.no_handler(self)
            if backlog:
                if box.closed:
                    raise ValueError("handle is closed")
            else:
                watch = self._watches.get(loop)
                if watch is None:
                    watch = aio.new_watch(self, loop)
                while not backlog:
                    fut = loop.create_future()
                    watch.add(fut)
                    try:
                        await fut
                    finally:
                        watch.waiters.discard(fut)
            port = backlog.popleft()
            try:
                yield port
            finally:
                if unmask and not box.closed:
                    try:
                        unmask_port(box, port)
                    except OSError as e:
                        if e.errno != _errno.ENOTCONN:
                            raise

    def add_event_handler(
        self,
        handler: Callable[..., Any],
        *,
        unmask: bool = True,
        loop: "Optional[asyncio.AbstractEventLoop]" = None,
        batch: bool = False,
    ) -> None:
        """Call ``handler(port)`` from the asyncio loop for every event,
        until :meth:`remove_event_handler` or :meth:`close`.

        The callback style of asyncio (``loop.add_reader``) for event
        channels: the handle's fd stays registered with the loop's reader
        while the handler is installed; each readiness event takes every
        pending port (one C call per 256 ports) and calls the handler once
        per port, in the reader callback itself: no future, no task, no
        extra turn of the loop.  The handler must not block; to await
        something, start a task from it.

        With ``unmask=True`` (the default) each port is unmasked when the
        handler returns (or raises), so one event is delivered per
        ``send()`` that follows the unmask; with ``unmask=False`` the port
        stays masked until the program calls :meth:`unmask`.

        An exception raised by the handler (other than ``SystemExit`` and
        ``KeyboardInterrupt``, which propagate as from any asyncio
        callback) goes to the loop's exception handler
        (``loop.call_exception_handler``, context keys ``exception``,
        ``handle``, ``port``); the port is still unmasked and the other
        ports are still handed to the handler: an error loses no event.

        While a handler is installed, :meth:`wait_async` and
        :meth:`events` raise ``RuntimeError``; blocking :meth:`pending` /
        :meth:`wait` still work and take events the handler would
        otherwise get.  Ports queued in the handle (left by an iteration
        left early) are handed to the handler from the loop soon after it
        is installed.

        With ``batch=True`` the handler is called once per readiness
        event, as ``handler(ports)`` with the list of every port taken
        (all that were pending, one C call per 256), and the ports are
        unmasked together when it returns (``evtchnx_unmask_batch``, one
        C call, where the C module has it); an exception from it reaches
        the loop's exception handler with the context key ``ports``.

        :param handler: called as ``handler(port)`` (``handler(ports)``
            with ``batch=True``) in the loop's thread.
        :param unmask: unmask each port after its handler call.
        :param loop: the event loop; default the running loop.
        :param batch: one call per readiness event with a list of ports.
        :raises RuntimeError: a handler is installed already, tasks are
            waiting in :meth:`wait_async` or :meth:`events`, or no loop
            is given and none is running.
        """
        (_aio or _load_asyncio()).add_handler(self, handler, unmask, loop,
                                              batch)

    def remove_event_handler(self) -> bool:
        """Remove the handler :meth:`add_event_handler` installed (and the
        loop's reader on the fd); return whether there was one.  Call it
        from the loop's thread, also from within the handler: ports taken
        but not yet handed over stay queued in the handle for the next
        :meth:`pending`, :meth:`wait`, iteration or handler."""
        if self._handler is None:
            return False
        return bool((_aio or _load_asyncio()).remove_handler(self))

    # ---- sim toolstack (control domain only) -------------------------

    def domain_create(self, domid: int) -> None:
        """Create domain ``domid`` in the lab, so that its ports can be
        allocated before any of its handles joins (sim only).

        :raises OSError: EPERM, EINVAL, EEXIST, ENOSPC, EOPNOTSUPP (xen).
        """
        try:
            _c.evtchnx_domain_create(self._box, domid)
        except OSError as e:
            raise _named(e, f"evtchnx_domain_create(domid {domid})") from None

    def domain_grant(self, domid: int) -> str:
        """The token with which a process may join a strict lab as domain
        ``domid`` (it passes it in ``EVTCHNX_LAB_TOKEN``); control domain
        only (sim only).

        :raises OSError: EPERM, EINVAL, EOPNOTSUPP (xen).
        """
        return _c.evtchnx_domain_grant(self._box, domid)

    def domain_destroy(self, domid: int) -> None:
        """Destroy domain ``domid``: its ports close, its handles fail with
        ESRCH afterwards (sim only).

        :raises OSError: EPERM, EINVAL, ESRCH, EOPNOTSUPP (xen).
        """
        try:
            _c.evtchnx_domain_destroy(self._box, domid)
        except OSError as e:
            raise _named(e, f"evtchnx_domain_destroy(domid {domid})") from None

    def raise_virq(self, domid: int, virq: int) -> None:
        """Raise virtual IRQ ``virq`` in domain ``domid``, as the hypervisor
        would (sim only).

        :raises OSError: EPERM, EINVAL, ESRCH, EOPNOTSUPP (xen).
        """
        try:
            _c.evtchnx_raise_virq(self._box, domid, virq)
        except OSError as e:
            raise _named(e, f"evtchnx_raise_virq(domid {domid}, "
                         f"virq {virq})") from None
