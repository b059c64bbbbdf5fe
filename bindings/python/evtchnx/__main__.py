# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""``python -m evtchnx``: the versions, or the ports of a shared lab.

    python -m evtchnx                      # binding and library versions
    python -m evtchnx status --lab NAME    # domains and ports of lab NAME

``status`` joins the lab ``sim:NAME`` as the control domain without
starting a server (a lab that does not run is an error) and lists, for
each domain that exists, its ports that are not CLOSED among the first
``--ports`` (default 64).
"""

from __future__ import annotations

import argparse
import errno
import sys
from typing import List, Optional

import evtchnx


def _versions() -> int:
    print(f"evtchnx {evtchnx.__version__} (Python binding), "
          f"libevtchnx {evtchnx.version()}")
    return 0


def _status(lab: str, ports: int) -> int:
    target = lab if lab.startswith("sim") else f"sim:{lab}"
    with evtchnx.Handle(target, flags=evtchnx.OPEN_NO_SPAWN) as h:
        print(f"lab {target}:")
        for dom in range(evtchnx.SIM_MAX_DOMAINS):
            try:
                h.status(0, dom=dom)
            except ProcessLookupError:  # ESRCH: no such domain
                continue
            lines = []
            for port in range(1, ports + 1):
                try:
                    st = h.status(port, dom=dom)
                except OSError as e:
                    if e.errno == errno.EINVAL:  # beyond the port table
                        break
                    raise
                if st.state == evtchnx.State.CLOSED:
                    continue
                what = st.state.name.lower()
                if st.state in (evtchnx.State.UNBOUND,
                                evtchnx.State.INTERDOMAIN):
                    what += f" remote dom{st.remote_domid}"
                if st.state == evtchnx.State.INTERDOMAIN:
                    what += f" port {st.remote_port}"
                if st.state == evtchnx.State.VIRQ:
                    what = f"virq {st.virq}"
                lines.append(f"    port {port}: {what}")
            print(f"  dom{dom}: {len(lines)} port(s) open")
            for line in lines:
                print(line)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evtchnx",
        description="Show the evtchnx versions, or the ports of a lab.")
    parser.add_argument("--version", action="store_true",
                        help="print the versions (the default)")
    sub = parser.add_subparsers(dest="command")
    st = sub.add_parser("status", help="list the domains and ports of a lab")
    st.add_argument("--lab", required=True,
                    help="the lab's name (NAME or sim:NAME)")
    st.add_argument("--ports", type=int, default=64,
                    help="ports per domain to look at (default 64)")
    args = parser.parse_args(argv)
    if args.command == "status":
        try:
            return _status(args.lab, args.ports)
        except OSError as e:
            print(f"python -m evtchnx: {e}", file=sys.stderr)
            return 1
    return _versions()


if __name__ == "__main__":
    sys.exit(main())
