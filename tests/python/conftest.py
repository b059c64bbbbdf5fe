# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Fixtures of the Python binding's test suite.

Run from a build tree with Debian's interpreter:

    PYTHONPATH=BUILD/python /usr/bin/python3 -m pytest -q tests/python
"""

import itertools
import os
import select
import subprocess
import sys
import textwrap
from typing import Callable, Iterator, List

import pytest

import evtchnx

_names = itertools.count()


def unique_lab() -> str:
    """A shared-lab target no other test (or test run) uses."""
    return f"sim:pytest-{os.getpid()}-{next(_names)}"


def readable(h: evtchnx.Handle, timeout: float = 0.0) -> bool:
    """Whether the handle's fd polls readable within ``timeout`` seconds."""
    r, _, _ = select.select([h], [], [], timeout)
    return bool(r)


def spawn_python(code: str, *args: str) -> subprocess.Popen:
    """Start ``code`` in a new /usr/bin/python3 (the same interpreter and
    PYTHONPATH as this one) with stdin/stdout pipes, line-buffered text."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        env=dict(os.environ))


def expect_line(proc: subprocess.Popen, timeout: float = 30.0) -> str:
    """Read one line from a child, failing the test if none comes."""
    assert proc.stdout is not None
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    assert r, "child process did not answer"
    line = proc.stdout.readline()
    assert line, f"child exited early (status {proc.wait()})"
    return line.strip()


@pytest.fixture
def lab() -> str:
    return unique_lab()


@pytest.fixture
def handle() -> Iterator[Callable[..., evtchnx.Handle]]:
    """``handle(target="sim", domid=0)`` opens a handle closed after the
    test (tests in one process share the private lab "sim")."""
    opened: List[evtchnx.Handle] = []

    def make(target: str = "sim", **kw: int) -> evtchnx.Handle:
        h = evtchnx.Handle(target, **kw)
        opened.append(h)
        return h

    yield make
    for h in reversed(opened):
        h.close()


@pytest.fixture
def channel(handle):
    """Domains 1 and 2 of the private lab and a channel between them:
    (a, p, b, q) with port p of a connected to port q of b; the pending
    event that binding leaves on q has been taken and q unmasked."""
    a = handle("sim", domid=1)
    b = handle("sim", domid=2)
    p = a.alloc_unbound(2)
    q = b.bind_interdomain(1, p)
    assert b.wait(5) == q
    b.unmask(q)
    return a, p, b, q
