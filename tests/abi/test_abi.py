# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""libevtchnx.so.1 through cffi in ABI mode: no compiled glue.

Proves that the public header is all a plain FFI needs: the declarations
are the preprocessed header, the exports are exactly what it declares, and
every exported function works when called through libffi.
"""

import errno
import os
import re

import pytest

from conftest import (HEADER, LIB, exported_symbols, header_functions)

DOMID_SELF = 0x7FF0
VERSION_NODE = re.compile(r"^EVTCHNX_\d+\.\d+$")

# VIRQ_TIMER is bound per vCPU (any domain may bind it); VIRQ_CONSOLE is
# global, handled by the control domain.
VIRQ_TIMER = 0
VIRQ_CONSOLE = 2


# ---- the header and the symbol table ------------------------------------

def test_header_is_plain_c(cdef_text):
    """The preprocessed header declares the API and nothing cffi cannot
    parse (it went through ffi.cdef in the fixture below)."""
    assert "evtchnx_open" in cdef_text
    assert "#" not in cdef_text
    assert "__attribute__" not in cdef_text


def test_exports_match_header(cdef_text):
    """Every function the header declares is exported with a version of
    the EVTCHNX_ nodes, and the library exports nothing else."""
    declared = header_functions(cdef_text)
    assert len(declared) >= 20, declared

    exported = {}
    nodes = set()
    problems = []
    for _addr, kind, sym in exported_symbols():
        if kind == "A" and VERSION_NODE.match(sym):
            nodes.add(sym)
            continue
        name, sep, version = sym.partition("@")
        version = version.lstrip("@")
        if not sep or not VERSION_NODE.match(version):
            problems.append(f"{sym}: exported without an EVTCHNX_ version")
            continue
        if kind not in ("T", "i"):
            problems.append(f"{sym}: exported symbol of type {kind}, "
                            "not a function")
        if not name.startswith("evtchnx_"):
            problems.append(f"{sym}: exported name without evtchnx_ prefix")
        if sym.startswith(name + "@@"):
            exported[name] = version
    assert not problems, "\n".join(problems)
    assert {"EVTCHNX_1.0", "EVTCHNX_1.1"} <= nodes, nodes
    for name in ("evtchnx_domain_grant", "evtchnx_alloc_unbound_batch",
                 "evtchnx_bind_interdomain_batch", "evtchnx_unbind_batch",
                 "evtchnx_unmask_batch", "evtchnx_status_batch"):
        assert exported.get(name) == "EVTCHNX_1.1", (name, exported)
    assert exported.get("evtchnx_open") == "EVTCHNX_1.0", exported

    missing = sorted(declared - set(exported))
    undeclared = sorted(set(exported) - declared)
    assert not missing, (f"declared in {HEADER} but not exported by "
                         f"{LIB}: {missing}")
    assert not undeclared, (f"exported by {LIB} but not declared in "
                            f"{HEADER}: {undeclared}")


def test_version_matches_header(abi, macros):
    ffi, lib = abi
    v = ffi.string(lib.evtchnx_version()).decode()
    assert v == macros["EVTCHNX_VERSION_STRING"]
    assert v == "%d.%d.%d" % (macros["EVTCHNX_VERSION_MAJOR"],
                              macros["EVTCHNX_VERSION_MINOR"],
                              macros["EVTCHNX_VERSION_PATCH"])


def test_strerror(abi):
    ffi, lib = abi
    for code in (-errno.EINVAL, errno.EINVAL):
        s = lib.evtchnx_strerror(code)
        assert s != ffi.NULL
        assert ffi.string(s).decode() == os.strerror(errno.EINVAL)
    for code in (0, -999999, 999999, -2**31, 2**31 - 1):
        s = lib.evtchnx_strerror(code)
        assert s != ffi.NULL
        assert ffi.string(s)


# ---- building blocks ---------------------------------------------------

def new_opts(ffi, domid=0, flags=0):
    opts = ffi.new("struct evtchnx_open_opts *")
    opts.sz = ffi.sizeof("struct evtchnx_open_opts")
    opts.domid = domid
    opts.flags = flags
    return opts


def open_handle(ffi, lib, target=b"sim", domid=0, flags=0):
    h = lib.evtchnx_open(target, new_opts(ffi, domid, flags))
    assert h != ffi.NULL, f"evtchnx_open: {os.strerror(ffi.errno)}"
    return h


def check_err(ffi, r, code):
    """A failed int call: returns -code and sets errno to code."""
    assert r == -code, f"expected -{errno.errorcode[code]}, got {r}"
    assert ffi.errno == code


def new_status(ffi):
    st = ffi.new("struct evtchnx_status *")
    st.sz = ffi.sizeof("struct evtchnx_status")
    return st


@pytest.fixture
def handles(abi):
    """Handles of the private lab, closed at the end of the test."""
    ffi, lib = abi
    opened = []

    def make(domid=0, target=b"sim"):
        h = open_handle(ffi, lib, target, domid)
        opened.append(h)
        return h

    yield make
    for h in reversed(opened):
        lib.evtchnx_close(h)


# ---- calls -----------------------------------------------------------------

def test_null_handle_everywhere(abi, cdef_text):
    """Every function that takes a handle rejects NULL with -EINVAL (NULL
    with errno EINVAL for pointer results; evtchnx_close(NULL) is a
    no-op), whatever its other arguments."""
    ffi, lib = abi
    handle_type = ffi.typeof("struct evtchnx_handle *")
    seen = 0
    for name in sorted(header_functions(cdef_text)):
        fn = getattr(lib, name)
        ftype = ffi.typeof(fn)
        if not ftype.args or ftype.args[0] is not handle_type:
            continue
        args = [ffi.NULL]
        for a in ftype.args[1:]:
            args.append(ffi.NULL if a.kind == "pointer" else 0)
        ffi.errno = 0
        r = fn(*args)
        seen += 1
        if name == "evtchnx_close":
            assert r is None
        elif ftype.result.kind == "pointer":
            assert r == ffi.NULL, name
            assert ffi.errno == errno.EINVAL, name
        else:
            assert r == -errno.EINVAL, name
            assert ffi.errno == errno.EINVAL, name
    assert seen >= 20


def test_open_targets(abi, monkeypatch):
    ffi, lib = abi
    # NULL options: all defaults (domain 0).
    h = lib.evtchnx_open(b"sim", ffi.NULL)
    assert h != ffi.NULL
    assert lib.evtchnx_domid(h) == 0
    assert ffi.string(lib.evtchnx_backend(h)) == b"sim"
    lib.evtchnx_close(h)

    # No target: $EVTCHNX_TARGET decides.
    monkeypatch.setenv("EVTCHNX_TARGET", "sim")
    for target in (ffi.NULL, b""):
        h = lib.evtchnx_open(target, ffi.NULL)
        assert h != ffi.NULL
        assert ffi.string(lib.evtchnx_backend(h)) == b"sim"
        lib.evtchnx_close(h)

    for bad in (b"bogus", b"sim:", b"sim:.hidden", b"sim:" + b"x" * 65,
                b"sim:a/b"):
        ffi.errno = 0
        assert lib.evtchnx_open(bad, ffi.NULL) == ffi.NULL, bad
        assert ffi.errno == errno.EINVAL, bad

    # A reserved domid.
    ffi.errno = 0
    assert lib.evtchnx_open(b"sim", new_opts(ffi, DOMID_SELF)) == ffi.NULL
    assert ffi.errno == errno.EINVAL
    # Unknown flags.
    ffi.errno = 0
    assert lib.evtchnx_open(b"sim", new_opts(ffi, 0, 0x80000000)) == ffi.NULL
    assert ffi.errno == errno.EINVAL

    # No lab server and not allowed to start one.
    name = b"sim:abi-nospawn-%d" % os.getpid()
    ffi.errno = 0
    assert lib.evtchnx_open(name, new_opts(ffi, 0, 0x1)) == ffi.NULL
    assert ffi.errno == errno.ECONNREFUSED

    if not os.path.exists("/dev/xen/evtchn"):
        ffi.errno = 0
        assert lib.evtchnx_open(b"xen", ffi.NULL) == ffi.NULL
        assert ffi.errno in (errno.ENODEV, errno.ENOSYS)


def test_options_struct_size(abi):
    """The sz technique: an older caller's shorter struct takes defaults, a
    newer caller's longer struct is accepted when its tail is zero."""
    ffi, lib = abi
    full = ffi.sizeof("struct evtchnx_open_opts")
    size_t = ffi.sizeof("size_t")

    # Only sz: every field takes its default.
    buf = ffi.new("char[]", full)
    opts = ffi.cast("struct evtchnx_open_opts *", buf)
    opts.sz = size_t
    opts.domid = 3  # beyond sz: ignored
    h = lib.evtchnx_open(b"sim", opts)
    assert h != ffi.NULL
    assert lib.evtchnx_domid(h) == 0
    lib.evtchnx_close(h)

    # sz smaller than a size_t.
    opts.sz = size_t - 1
    ffi.errno = 0
    assert lib.evtchnx_open(b"sim", opts) == ffi.NULL
    assert ffi.errno == errno.EINVAL

    # A newer, longer struct: zero tail accepted, non-zero tail refused.
    big = ffi.new("char[]", full + 16)
    opts = ffi.cast("struct evtchnx_open_opts *", big)
    opts.sz = full + 16
    opts.domid = 2
    h = lib.evtchnx_open(b"sim", opts)
    assert h != ffi.NULL
    assert lib.evtchnx_domid(h) == 2
    lib.evtchnx_close(h)
    big[full + 7] = b"\x01"
    ffi.errno = 0
    assert lib.evtchnx_open(b"sim", opts) == ffi.NULL
    assert ffi.errno == errno.EINVAL


def test_status_struct_size(abi, handles):
    """evtchnx_status() writes at most st->sz bytes."""
    ffi, lib = abi
    h = handles(0)
    p = lib.evtchnx_alloc_unbound(h, DOMID_SELF, 1)
    assert p >= 1
    full = ffi.sizeof("struct evtchnx_status")
    size_t = ffi.sizeof("size_t")
    short = ffi.offsetof("struct evtchnx_status", "state") + 4
    buf = ffi.new("unsigned char[]", full)
    for i in range(full):
        buf[i] = 0xAA
    st = ffi.cast("struct evtchnx_status *", buf)
    st.sz = short
    assert lib.evtchnx_status(h, DOMID_SELF, p, st) == 0
    assert st.state == 1  # EVTCHNX_STATE_UNBOUND
    assert all(buf[i] == 0xAA for i in range(short, full))

    st.sz = size_t - 1
    check_err(ffi, lib.evtchnx_status(h, DOMID_SELF, p, st), errno.EINVAL)
    check_err(ffi, lib.evtchnx_status(h, DOMID_SELF, p, ffi.NULL),
              errno.EINVAL)
    assert lib.evtchnx_unbind(h, p) == 0


def test_channel_through_libffi(abi, handles, macros):
    """A channel between two domains of the private lab, every delivery
    call, through libffi only."""
    ffi, lib = abi
    STATE_UNBOUND = macros["EVTCHNX_STATE_UNBOUND"]
    STATE_INTERDOMAIN = macros["EVTCHNX_STATE_INTERDOMAIN"]
    h0 = handles(0)
    h1 = handles(1)
    assert lib.evtchnx_fd(h0) >= 0 and lib.evtchnx_fd(h1) >= 0
    assert lib.evtchnx_domid(h0) == 0 and lib.evtchnx_domid(h1) == 1
    assert ffi.string(lib.evtchnx_backend(h1)) == b"sim"

    p = lib.evtchnx_alloc_unbound(h0, DOMID_SELF, 1)
    assert p >= 1
    st = new_status(ffi)
    assert lib.evtchnx_status(h0, DOMID_SELF, p, st) == 0
    assert (st.state, st.remote_domid) == (STATE_UNBOUND, 1)

    q = lib.evtchnx_bind_interdomain(h1, 0, p)
    assert q >= 1
    assert lib.evtchnx_status(h1, DOMID_SELF, q, st) == 0
    assert (st.state, st.remote_domid, st.remote_port) == \
        (STATE_INTERDOMAIN, 0, p)
    assert lib.evtchnx_status(h0, DOMID_SELF, p, st) == 0
    assert (st.state, st.remote_domid, st.remote_port) == \
        (STATE_INTERDOMAIN, 1, q)

    # Binding leaves the new port pending.
    assert lib.evtchnx_is_pending(h1, q) == 1
    assert lib.evtchnx_pending(h1) == q
    assert lib.evtchnx_unmask(h1, q) == 0
    check_err(ffi, lib.evtchnx_pending(h1), errno.EAGAIN)
    check_err(ffi, lib.evtchnx_wait(h1, 0), errno.ETIMEDOUT)

    assert lib.evtchnx_send(h0, p) == 0
    assert lib.evtchnx_wait(h1, 5000) == q
    # Masked: a second event is latched.
    assert lib.evtchnx_send(h0, p) == 0
    assert lib.evtchnx_is_pending(h1, q) == 1
    check_err(ffi, lib.evtchnx_pending(h1), errno.EAGAIN)
    assert lib.evtchnx_unmask(h1, q) == 0
    ports = ffi.new("uint32_t[]", 8)
    assert lib.evtchnx_pending_batch(h1, ports, 8) == 1
    assert ports[0] == q
    assert lib.evtchnx_pending_batch(h1, ports, 8) == 0
    check_err(ffi, lib.evtchnx_pending_batch(h1, ports, 0), errno.EINVAL)
    check_err(ffi, lib.evtchnx_pending_batch(h1, ffi.NULL, 8), errno.EINVAL)
    assert lib.evtchnx_unmask(h1, q) == 0

    # The other way.
    assert lib.evtchnx_send(h1, q) == 0
    assert lib.evtchnx_wait(h0, 5000) == p
    assert lib.evtchnx_unmask(h0, p) == 0

    # Own-port checks.
    check_err(ffi, lib.evtchnx_send(h0, 0), errno.EINVAL)
    check_err(ffi, lib.evtchnx_send(h0, 0xFFFFFFFF), errno.EINVAL)
    check_err(ffi, lib.evtchnx_send(h0, q + p + 100), errno.ENOTCONN)

    # Closing one end sends the other back to UNBOUND.
    assert lib.evtchnx_unbind(h0, p) == 0
    check_err(ffi, lib.evtchnx_unbind(h0, p), errno.ENOTCONN)
    assert lib.evtchnx_status(h1, DOMID_SELF, q, st) == 0
    assert (st.state, st.remote_domid) == (STATE_UNBOUND, 0)
    assert lib.evtchnx_send(h1, q) == 0  # dropped, as on Xen


def test_virq_and_toolstack_through_libffi(abi, handles, macros):
    ffi, lib = abi
    STATE_VIRQ = macros["EVTCHNX_STATE_VIRQ"]
    STATE_CLOSED = macros["EVTCHNX_STATE_CLOSED"]
    h0 = handles(0)
    h1 = handles(1)

    v = lib.evtchnx_bind_virq(h1, VIRQ_TIMER)
    assert v >= 1
    check_err(ffi, lib.evtchnx_bind_virq(h1, VIRQ_TIMER), errno.EEXIST)
    check_err(ffi, lib.evtchnx_bind_virq(h1, VIRQ_CONSOLE), errno.EBUSY)
    check_err(ffi, lib.evtchnx_bind_virq(h1, macros["EVTCHNX_NR_VIRQS"]),
              errno.EINVAL)
    st = new_status(ffi)
    assert lib.evtchnx_status(h1, DOMID_SELF, v, st) == 0
    assert (st.state, st.virq) == (STATE_VIRQ, VIRQ_TIMER)
    check_err(ffi, lib.evtchnx_send(h1, v), errno.EINVAL)
    assert lib.evtchnx_raise_virq(h0, 1, VIRQ_TIMER) == 0
    assert lib.evtchnx_wait(h1, 5000) == v
    assert lib.evtchnx_unmask(h1, v) == 0
    check_err(ffi, lib.evtchnx_raise_virq(h1, 1, VIRQ_TIMER), errno.EPERM)

    # A domain created by the toolstack, a port allocated on its behalf,
    # adopted by its handle.
    dom = 9
    assert lib.evtchnx_domain_create(h0, dom) == 0
    check_err(ffi, lib.evtchnx_domain_create(h0, dom), errno.EEXIST)
    check_err(ffi, lib.evtchnx_domain_create(h1, 10), errno.EPERM)
    g = lib.evtchnx_alloc_unbound(h0, dom, DOMID_SELF)
    assert g >= 1
    assert lib.evtchnx_status(h0, dom, g, st) == 0
    assert st.remote_domid == 0  # DOMID_SELF is the caller's domid
    hd = handles(dom)
    check_err(ffi, lib.evtchnx_send(hd, g), errno.ENOTCONN)
    assert lib.evtchnx_adopt(hd, g) == 0
    check_err(ffi, lib.evtchnx_adopt(hd, g), errno.EBUSY)
    assert lib.evtchnx_send(hd, g) == 0  # unbound: dropped

    # reset(dom) closes its ports.
    assert lib.evtchnx_reset(h0, dom) == 0
    assert lib.evtchnx_status(h0, dom, g, st) == 0
    assert st.state == STATE_CLOSED
    check_err(ffi, lib.evtchnx_reset(h1, dom), errno.EPERM)

    assert lib.evtchnx_domain_destroy(h0, dom) == 0
    check_err(ffi, lib.evtchnx_domain_destroy(h0, dom), errno.ESRCH)
    check_err(ffi, lib.evtchnx_status(h0, dom, 1, st), errno.ESRCH)

    # restrict: only bind_interdomain to that domain remains.
    check_err(ffi, lib.evtchnx_restrict(h1, 0), errno.EINVAL)
    assert lib.evtchnx_restrict(h1, 5) == 0
    check_err(ffi, lib.evtchnx_restrict(h1, 5), errno.EACCES)
    check_err(ffi, lib.evtchnx_alloc_unbound(h1, DOMID_SELF, 0), errno.EACCES)
    check_err(ffi, lib.evtchnx_bind_virq(h1, 1), errno.EACCES)


def test_options_struct_growth_1_1(abi):
    """busy_poll_ns (1.1) grew the options at their end: a 1.0 caller's
    16-byte struct still works (what lies beyond its sz is not read), the
    new field is checked, and a newer caller's non-zero tail is refused."""
    ffi, lib = abi
    full = ffi.sizeof("struct evtchnx_open_opts")
    old = ffi.offsetof("struct evtchnx_open_opts", "busy_poll_ns")
    assert old == 16 and full == 24

    # The 1.0 struct (sz, domid, flags), followed by garbage that would be
    # an invalid busy_poll_ns if it were read.
    buf = ffi.new("unsigned char[]", full)
    opts = ffi.cast("struct evtchnx_open_opts *", buf)
    opts.sz = old
    opts.domid = 4
    opts.busy_poll_ns = 0xFFFFFFFFFFFFFFFF
    h = lib.evtchnx_open(b"sim", opts)
    assert h != ffi.NULL, os.strerror(ffi.errno)
    assert lib.evtchnx_domid(h) == 4
    assert lib.evtchnx_wait(h, 0) == -errno.ETIMEDOUT
    lib.evtchnx_close(h)

    # The 1.1 struct: busy_poll_ns at most one second.
    opts = new_opts(ffi, 4)
    for ok in (1, 10**9):
        opts.busy_poll_ns = ok
        h = lib.evtchnx_open(b"sim", opts)
        assert h != ffi.NULL, (ok, os.strerror(ffi.errno))
        assert lib.evtchnx_wait(h, 1) == -errno.ETIMEDOUT
        lib.evtchnx_close(h)
    for bad in (10**9 + 1, 2**63, 2**64 - 1):
        opts.busy_poll_ns = bad
        ffi.errno = 0
        assert lib.evtchnx_open(b"sim", opts) == ffi.NULL, bad
        assert ffi.errno == errno.EINVAL, bad

    # A newer caller's struct: its unknown tail must be zero.
    big = ffi.new("unsigned char[]", full + 8)
    opts = ffi.cast("struct evtchnx_open_opts *", big)
    opts.sz = full + 8
    opts.busy_poll_ns = 1000
    h = lib.evtchnx_open(b"sim", opts)
    assert h != ffi.NULL
    lib.evtchnx_close(h)
    for i in range(full, full + 8):
        big[i] = 1
        ffi.errno = 0
        assert lib.evtchnx_open(b"sim", opts) == ffi.NULL, i
        assert ffi.errno == errno.EINVAL, i
        big[i] = 0


def ports_array(ffi, ports):
    return ffi.new("uint32_t[]", list(ports) or [0])


def test_batches_through_libffi(abi, handles, macros):
    """The five batch calls, with sendmmsg's convention: the count done
    when a later element fails, the failing element's error on the next
    call, the single call's error when the first element fails."""
    ffi, lib = abi
    STATE_UNBOUND = macros["EVTCHNX_STATE_UNBOUND"]
    STATE_INTERDOMAIN = macros["EVTCHNX_STATE_INTERDOMAIN"]
    STATE_CLOSED = macros["EVTCHNX_STATE_CLOSED"]
    h1 = handles(21)
    h2 = handles(22)

    out = ffi.new("uint32_t[]", 4)
    assert lib.evtchnx_alloc_unbound_batch(h1, DOMID_SELF, 22, out, 4) == 4
    assert list(out) == [1, 2, 3, 4]  # first fit, as four single calls
    ps = list(out)

    # n == 0 is 0, even with NULL arrays; NULL with n > 0 is EINVAL.
    assert lib.evtchnx_alloc_unbound_batch(h1, DOMID_SELF, 22, ffi.NULL,
                                           0) == 0
    assert lib.evtchnx_bind_interdomain_batch(h2, 21, ffi.NULL, ffi.NULL,
                                              0) == 0
    assert lib.evtchnx_unbind_batch(h1, ffi.NULL, 0) == 0
    assert lib.evtchnx_unmask_batch(h1, ffi.NULL, 0) == 0
    assert lib.evtchnx_status_batch(h1, DOMID_SELF, ffi.NULL, ffi.NULL,
                                    0) == 0
    check_err(ffi, lib.evtchnx_alloc_unbound_batch(h1, DOMID_SELF, 22,
                                                   ffi.NULL, 1), errno.EINVAL)
    check_err(ffi, lib.evtchnx_bind_interdomain_batch(h2, 21, ffi.NULL, out,
                                                      1), errno.EINVAL)
    check_err(ffi, lib.evtchnx_bind_interdomain_batch(
        h2, 21, ports_array(ffi, ps), ffi.NULL, 1), errno.EINVAL)
    check_err(ffi, lib.evtchnx_unbind_batch(h1, ffi.NULL, 1), errno.EINVAL)
    check_err(ffi, lib.evtchnx_unmask_batch(h1, ffi.NULL, 1), errno.EINVAL)
    sts = ffi.new("struct evtchnx_status[]", 4)
    sts[0].sz = ffi.sizeof("struct evtchnx_status")
    check_err(ffi, lib.evtchnx_status_batch(h1, DOMID_SELF, ffi.NULL, sts,
                                            1), errno.EINVAL)
    check_err(ffi, lib.evtchnx_status_batch(
        h1, DOMID_SELF, ports_array(ffi, ps), ffi.NULL, 1), errno.EINVAL)

    # bind: the second call reports the bad element.
    rports = ports_array(ffi, [ps[0], ps[1], 999, ps[2]])
    local = ffi.new("uint32_t[]", 4)
    assert lib.evtchnx_bind_interdomain_batch(h2, 21, rports, local, 4) == 2
    check_err(ffi, lib.evtchnx_bind_interdomain_batch(h2, 21, rports + 2,
                                                      local + 2, 2),
              errno.EINVAL)
    check_err(ffi, lib.evtchnx_bind_interdomain(h2, 21, 999), errno.EINVAL)
    assert lib.evtchnx_bind_interdomain_batch(h2, 21, rports + 3,
                                              local + 2, 1) == 1
    qs = [local[0], local[1], local[2]]
    assert qs == [1, 2, 3]

    # status: element-wise evtchnx_status().
    sts[0].sz = ffi.sizeof("struct evtchnx_status")
    assert lib.evtchnx_status_batch(h1, DOMID_SELF, ports_array(ffi, ps),
                                    sts, 4) == 4
    want = [(STATE_INTERDOMAIN, 22, qs[0]), (STATE_INTERDOMAIN, 22, qs[1]),
            (STATE_INTERDOMAIN, 22, qs[2]), (STATE_UNBOUND, 22, 0)]
    assert [(s.state, s.remote_domid, s.remote_port) for s in sts] == want
    one = new_status(ffi)
    for i, p in enumerate(ps):
        assert lib.evtchnx_status(h1, DOMID_SELF, p, one) == 0
        fields = ("sz", "state", "vcpu", "remote_domid", "remote_port",
                  "virq")
        assert [getattr(one, f) for f in fields] == \
            [getattr(sts[i], f) for f in fields]
    sts[0].sz = ffi.sizeof("size_t") - 1
    check_err(ffi, lib.evtchnx_status_batch(h1, DOMID_SELF,
                                            ports_array(ffi, ps), sts, 1),
              errno.EINVAL)

    # unmask: events latched while masked are delivered after it.
    taken = ffi.new("uint32_t[]", 8)
    assert lib.evtchnx_pending_batch(h2, taken, 8) == 3  # the binds' events
    assert lib.evtchnx_send(h1, ps[1]) == 0
    check_err(ffi, lib.evtchnx_pending(h2), errno.EAGAIN)
    q_arr = ports_array(ffi, qs + [4000])
    assert lib.evtchnx_unmask_batch(h2, q_arr, 4) == 3
    check_err(ffi, lib.evtchnx_unmask_batch(h2, q_arr + 3, 1),
              errno.ENOTCONN)
    assert lib.evtchnx_wait(h2, 5000) == qs[1]
    check_err(ffi, lib.evtchnx_pending(h2), errno.EAGAIN)

    # unbind: the first element failing is the single call's error.
    check_err(ffi, lib.evtchnx_unbind_batch(h2, ports_array(ffi, [0] + qs),
                                            4), errno.EINVAL)
    assert lib.evtchnx_unbind_batch(h2, q_arr, 4) == 3
    check_err(ffi, lib.evtchnx_unbind_batch(h2, q_arr, 1), errno.ENOTCONN)
    sts[0].sz = ffi.sizeof("struct evtchnx_status")
    assert lib.evtchnx_status_batch(h2, DOMID_SELF, q_arr, sts, 3) == 3
    assert [s.state for s in sts][:3] == [STATE_CLOSED] * 3

    # alloc: a domain that runs out midway.
    h0 = handles(0)
    assert lib.evtchnx_domain_create(h0, 23) == 0
    try:
        n = macros["EVTCHNX_SIM_MAX_PORTS"] - 3
        big = ffi.new("uint32_t[]", n + 5)
        assert lib.evtchnx_alloc_unbound_batch(h0, 23, 0, big, n) == n
        assert lib.evtchnx_alloc_unbound_batch(h0, 23, 0, big + n, 5) == 2
        assert (big[n], big[n + 1]) == (n + 1, n + 2)
        check_err(ffi, lib.evtchnx_alloc_unbound_batch(h0, 23, 0,
                                                       big + n + 2, 3),
                  errno.ENOSPC)
    finally:
        assert lib.evtchnx_domain_destroy(h0, 23) == 0
    check_err(ffi, lib.evtchnx_alloc_unbound_batch(h1, 0, 0, out, 1),
              errno.EPERM)
    check_err(ffi, lib.evtchnx_alloc_unbound_batch(h1, 0x10000, 0, out, 1),
              errno.EINVAL)


def test_status_batch_element_size(abi, handles):
    """st[0].sz is the stride: an older caller's smaller element (or a
    newer caller's larger one) gets exactly sz bytes per element, and
    nothing after the last element is written."""
    ffi, lib = abi
    h = handles(24)
    out = ffi.new("uint32_t[]", 3)
    assert lib.evtchnx_alloc_unbound_batch(h, DOMID_SELF, 25, out, 3) == 3
    ports = ports_array(ffi, [out[0], out[1], out[2]])
    full = ffi.sizeof("struct evtchnx_status")
    state_end = ffi.offsetof("struct evtchnx_status", "state") + 4
    rdom_end = ffi.offsetof("struct evtchnx_status", "remote_domid") + 4
    for sz in (state_end + 4, rdom_end + 4, full, full + 16):
        for k in (1, 2, 3):
            buf = ffi.new("unsigned char[]", sz * 3 + 16)
            for i in range(len(buf)):
                buf[i] = 0xAA
            st0 = ffi.cast("struct evtchnx_status *", buf)
            st0.sz = sz
            st = ffi.cast("struct evtchnx_status *", buf)
            assert lib.evtchnx_status_batch(h, DOMID_SELF, ports, st,
                                            k) == k, (sz, k)
            for i in range(k):
                el = ffi.cast("struct evtchnx_status *", buf + i * sz)
                assert el.sz == sz, (sz, k, i)
                assert el.state == 1, (sz, k, i)  # EVTCHNX_STATE_UNBOUND
                if sz >= rdom_end:
                    assert el.remote_domid == 25, (sz, k, i)
                if sz > full:  # a newer caller's tail: zeroed
                    assert all(buf[i * sz + j] == 0
                               for j in range(full, sz)), (sz, k, i)
            # The canary after the k-th element is intact.
            assert all(buf[j] == 0xAA for j in range(k * sz, len(buf))), \
                (sz, k)


def test_zz_every_exported_function_was_called(abi, cdef_text):
    """The suite above called every function the header declares."""
    _ffi, lib = abi
    declared = header_functions(cdef_text)
    assert declared - lib.called == set()
