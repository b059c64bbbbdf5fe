# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""``python -m evtchnx``: the versions, and the status view of a lab."""

import subprocess
import sys

import evtchnx
from evtchnx import __main__ as cli


def test_version_is_the_header_version():
    assert evtchnx.__version__ == evtchnx.VERSION == evtchnx.version()


def test_versions(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out == (f"evtchnx {evtchnx.__version__} (Python binding), "
                   f"libevtchnx {evtchnx.version()}\n")


def test_run_as_module():
    out = subprocess.run([sys.executable, "-m", "evtchnx"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    assert out.startswith(f"evtchnx {evtchnx.__version__} ")


def test_status_of_a_lab(lab, capsys):
    with evtchnx.Handle(lab) as c, evtchnx.Handle(lab, domid=1) as a:
        p = a.alloc_unbound(0)
        q = c.bind_interdomain(1, p)
        v = a.bind_virq(1)
        assert cli.main(["status", "--lab", lab.split(":", 1)[1]]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"lab {lab}:"
    assert f"    port {q}: interdomain remote dom1 port {p}" in out
    assert f"    port {p}: interdomain remote dom0 port {q}" in out
    assert f"    port {v}: virq 1" in out


def test_status_of_a_lab_that_does_not_run(lab, capsys):
    assert cli.main(["status", "--lab", lab]) == 1
    err = capsys.readouterr().err
    assert f"evtchnx_open({lab!r}, domid 0): " in err
