# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""The package is typed (PEP 561): mypy --strict accepts it, and a user's
code that passes a wrong type is caught through the shipped hints."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

import evtchnx

if importlib.util.find_spec("mypy") is None:
    pytest.skip("mypy is not installed (Debian's python3-mypy)",
                allow_module_level=True)

PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(evtchnx.__file__)))


def mypy(tmp_path, *args):
    env = dict(os.environ, MYPYPATH=PKG_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(tmp_path / "cache"), *args],
        capture_output=True, text=True, env=env, timeout=240)


def test_package_passes_mypy_strict(tmp_path):
    res = mypy(tmp_path, "-p", "evtchnx")
    assert res.returncode == 0, res.stdout + res.stderr


def test_user_code_is_checked(tmp_path):
    user = tmp_path / "user.py"
    user.write_text(textwrap.dedent("""
        import evtchnx

        def f(h: evtchnx.Handle) -> int:
            st: evtchnx.PortStatus = h.status(1)
            port = h.wait(0.5)
            if port is None:
                return int(st.state)
            return port

        def g(h: evtchnx.Handle) -> None:
            h.send("1")
    """))
    res = mypy(tmp_path, str(user))
    assert res.returncode == 1
    assert 'Argument 1 to "send" of "Handle" has incompatible type "str"' \
        in res.stdout
    assert res.stdout.count("error:") == 1, res.stdout
