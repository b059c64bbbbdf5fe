# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""The package itself: what it exports, its types and documentation."""

import inspect
import os
import selectors
import sys

import evtchnx
from evtchnx import State


def test_interpreter_and_location():
    # The suite runs under Debian's interpreter, against the build tree or
    # an installed copy; the extension sits inside the package folder.
    pkg = os.path.dirname(evtchnx.__file__)
    assert os.path.exists(os.path.join(pkg, "py.typed"))
    assert os.path.dirname(evtchnx._evtchnx.__file__) == pkg
    assert evtchnx._evtchnx.__name__ == "evtchnx._evtchnx"
    assert sys.version_info >= (3, 7)


def test_constants():
    assert evtchnx.DOMID_SELF == 0x7FF0
    assert evtchnx.DOMID_FIRST_RESERVED == 0x7FF0
    assert evtchnx.SIM_MAX_PORTS == 131072
    assert evtchnx.SIM_MAX_DOMAINS == 64
    assert evtchnx.NR_VIRQS == 24
    assert evtchnx.OPEN_NO_SPAWN == 1
    assert evtchnx.OPEN_SINGLE_THREAD == 2
    assert [int(s) for s in State] == [0, 1, 2, 3, 4, 5]
    assert evtchnx.STATE_UNBOUND is State.UNBOUND
    assert evtchnx.STATE_INTERDOMAIN == 2
    assert evtchnx.VERSION == evtchnx.version()


def test_everything_public_is_documented():
    missing = []
    for name in evtchnx.__all__:
        obj = getattr(evtchnx, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not inspect.getdoc(obj):
                missing.append(name)
    assert evtchnx.__doc__
    for cls in (evtchnx.Handle, evtchnx.PortStatus, evtchnx.State):
        for name, member in vars(cls).items():
            if name.startswith("_") and name not in ("__init__",
                                                     "__iter__",
                                                     "__enter__",
                                                     "__exit__"):
                continue
            if callable(member) or isinstance(member, property):
                if name in ("__init__", "__enter__", "__exit__"):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{cls.__name__}.{name}")
    assert not missing, missing


def test_public_methods_are_typed():
    untyped = []
    for name, member in vars(evtchnx.Handle).items():
        if name.startswith("_") and name != "__init__":
            continue
        fn = member.fget if isinstance(member, property) else member
        if not callable(fn):
            continue
        ann = fn.__annotations__
        if "return" not in ann:
            untyped.append(name)
        params = list(inspect.signature(fn).parameters)[1:]
        untyped += [f"{name}({p})" for p in params if p not in ann]
    assert not untyped, untyped


def test_handle_basics(handle):
    h = handle("sim", domid=3)
    assert h.domid == 3
    assert h.backend == "sim"
    assert h.fileno() >= 0
    assert "domid=3" in repr(h)
    with h as same:
        assert same is h
    assert h.closed


def test_selectors_and_status_tuple(channel):
    a, p, b, q = channel
    sel = selectors.DefaultSelector()
    sel.register(b, selectors.EVENT_READ)
    try:
        assert sel.select(0) == []
        a.send(p)
        ready = sel.select(5)
        assert [key.fileobj for key, _ in ready] == [b]
    finally:
        sel.close()
    st = b.status(q)
    assert st._fields == ("state", "vcpu", "remote_domid", "remote_port",
                          "virq")
    assert st.state == evtchnx.STATE_INTERDOMAIN
    assert (st.remote_domid, st.remote_port) == (1, p)
