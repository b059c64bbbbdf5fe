# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Random calls with random (mostly wrong) arguments: every outcome is a
result or a Python exception of the documented kinds, never a crash, and
the handles keep working.  Runs in a shared lab of its own, so that the
domains it creates do not leak into the private lab of the other tests."""

import random

import evtchnx

from conftest import unique_lab

INTS = [0, 1, 2, 3, 5, 63, 64, 4095, 4096, 0x7FEF, 0x7FF0, 0xFFFF, 0x10000,
        2**31 - 1, 2**31, 2**32 - 1, -1, 2**32, 2**63, -2**63, 2**200]
JUNK = [None, "1", b"1", 1.5, float("nan"), [], {}, object(), True]
METHODS = {
    "alloc_unbound": 1, "bind_interdomain": 2, "bind_virq": 1, "adopt": 1,
    "send": 1, "unbind": 1, "status": 1, "reset": 1, "restrict": 1,
    "unmask": 1, "is_pending": 1, "domain_create": 1, "domain_destroy": 1,
    "raise_virq": 2, "pending_batch": 1,
    "alloc_unbound_batch": 3, "bind_interdomain_batch": 2,
    "unbind_batch": 1, "unmask_batch": 1, "status_batch": 2,
}
# Methods whose last argument is a sequence of ports.
SEQUENCE_LAST = {"bind_interdomain_batch", "unbind_batch", "unmask_batch",
                 "status_batch"}
ALLOWED = (OSError, TypeError, OverflowError, ValueError)


def test_random_calls():
    rng = random.Random(20240611)
    lab = unique_lab()
    with evtchnx.Handle(lab) as c, evtchnx.Handle(lab, domid=1) as a, \
            evtchnx.Handle(lab, domid=2) as b:
        # Some real channels, so that valid-looking ports exist too.
        for _ in range(5):
            b.bind_interdomain(1, a.alloc_unbound(2))
        handles = [c, a, b]
        outcomes = {"ok": 0}
        for _ in range(3000):
            h = rng.choice(handles)
            name = rng.choice(sorted(METHODS))
            args = [rng.choice(INTS) if rng.random() < 0.8
                    else rng.choice(JUNK) for _ in range(METHODS[name])]
            if name in SEQUENCE_LAST and rng.random() < 0.8:
                args[-1] = [rng.choice(INTS) if rng.random() < 0.9
                            else rng.choice(JUNK)
                            for _ in range(rng.randrange(4))]
            try:
                getattr(h, name)(*args)
                outcomes["ok"] += 1
            except ALLOWED as e:
                key = type(e).__name__
                outcomes[key] = outcomes.get(key, 0) + 1
            try:
                for _ in range(rng.randrange(3)):
                    h.pending()
                h.wait(0)
            except OSError:  # e.g. ESRCH: the fuzz destroyed the domain
                pass
        # Every kind of outcome happened.
        assert outcomes["ok"] > 0
        assert outcomes.get("TypeError", 0) > 0
        assert outcomes.get("OverflowError", 0) > 0
        assert outcomes.get("OSError", 0) + outcomes.get(
            "PermissionError", 0) + outcomes.get("ProcessLookupError", 0) > 0
    # The lab still works for a new handle.
    with evtchnx.Handle(lab) as c:
        p = c.alloc_unbound(evtchnx.DOMID_SELF)
        q = c.bind_interdomain(evtchnx.DOMID_SELF, p)
        assert c.wait(5) == q
        c.unmask(q)
        c.send(p)
        assert c.wait(5) == q
