#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""The evtchnx demo, in three languages on one shared sim lab.

This process, in Python, is dom0, the control domain.  Like a toolstack it
creates two guest domains and allocates their event channels before they
run, then starts them: dom1 is a C program (examples/demo/guest.c), dom2 a
Lua script (examples/demo/guest.lua).  The guests bind, and events flow
both ways on all three channels: dom0 <-> dom1, dom0 <-> dom2, dom1 <-> dom2.
Then dom0 tells the Lua guest to leave, and everyone sees with
evtchnx_status() that its peers' ends went back to unbound (Xen sends no
event when a peer goes).  Each step is checked; the last line is "demo OK".

    examples/demo/demo.py [--build DIR] [--rounds N] [--lua lua5.4|luajit]

DIR is a build tree (default: $EVTCHNX_BUILD_DIR, else ./build next to
this repository's examples/); scripts/demo.sh builds one and runs this.
"""

import argparse
import errno
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 10.0                                  # seconds, for any one event


class DemoError(Exception):
    pass


def main() -> int:
    ap = argparse.ArgumentParser(description="A Python control domain, a C guest and a "
                                 "Lua guest on one shared sim lab.")
    ap.add_argument("--build", default=os.environ.get("EVTCHNX_BUILD_DIR") or
                    os.path.join(HERE, "..", "..", "build"),
                    help="the build tree (default: $EVTCHNX_BUILD_DIR, else ./build)")
    ap.add_argument("--rounds", type=int, default=1000,
                    help="round trips per pair (default 1000)")
    ap.add_argument("--lua", default="lua5.4", choices=("lua5.4", "luajit"),
                    help="the Lua interpreter of the Lua guest (default lua5.4)")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 1000000:
        ap.error("--rounds: 1 to 1000000")
    build = os.path.abspath(args.build)
    paths = {
        "Python package": os.path.join(build, "python"),
        "C guest": os.path.join(build, "examples", "demo", "evtchnx-demo-guest"),
        "Lua modules": os.path.join(build, "lua", "5.4" if args.lua == "lua5.4" else "5.1"),
    }
    for what, path in paths.items():
        if not os.path.exists(path):
            sys.exit(f"demo: the {what} is not in the build tree {build} ({path}): "
                     f"build it first (scripts/demo.sh does)")
    lua = shutil.which(args.lua)
    if not lua:
        sys.exit(f"demo: {args.lua} not found on PATH (Debian package "
                 f"{'lua5.4' if args.lua == 'lua5.4' else 'luajit'})")
    sys.path.insert(0, paths["Python package"])
    import evtchnx                                # the build tree's package

    demo = Demo(evtchnx, paths["C guest"], lua, paths["Lua modules"], args.rounds)
    try:
        demo.run()
    except (DemoError, OSError) as e:
        print(f"demo: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        demo.cleanup()
    print("\ndemo OK")
    return 0


class Demo:
    def __init__(self, evtchnx, guest_c, lua, lua_dir, rounds):
        self.x = evtchnx
        self.guest_c, self.lua, self.lua_dir, self.rounds = guest_c, lua, lua_dir, rounds
        self.t0 = time.monotonic()
        self.lab = f"sim:demo3-{os.getpid()}"
        self.scratch = tempfile.mkdtemp(prefix="evtchnx-demo-")
        self.procs = {}                           # domid -> Popen
        self.sent = {1: 0, 2: 0}                  # dom0's events, by guest
        self.received = {1: 0, 2: 0}
        self.rtt = {}
        self.dom0 = None

    # ---- output -----------------------------------------------------------
    def trace(self, what, *more):
        ms = (time.monotonic() - self.t0) * 1e3
        print(f"{ms:9.1f}  dom0 Py   {os.getpid():<7}  {what}", flush=True)
        for line in more:
            print(f"{'':37}{line}", flush=True)

    def section(self, title):
        print(f"-- {title} " + "-" * max(0, 68 - len(title)), flush=True)

    def ports(self, dom):
        """Every open port of @dom, as (port, status), up to its table's end."""
        out, port = [], 1
        while True:
            try:
                st = self.dom0.status(port, dom=dom)
            except OSError as e:
                if e.errno == errno.EINVAL:       # the end of its table
                    return out
                raise
            if st.state is not self.x.State.CLOSED:
                out.append((port, st))
            port += 1

    def show(self, dom, who):
        rows = []
        for port, st in self.ports(dom):
            name = st.state.name.lower()
            if st.state is self.x.State.INTERDOMAIN:
                rows.append(f"dom{dom} port {port:<3} {name:<12} <-> dom{st.remote_domid} "
                            f"port {st.remote_port}")
            elif st.state is self.x.State.UNBOUND:
                rows.append(f"dom{dom} port {port:<3} {name:<12} offered to dom{st.remote_domid}")
            else:
                rows.append(f"dom{dom} port {port:<3} {name}")
        self.trace(f"{who}'s open ports (evtchnx_status)", *(rows or [f"dom{dom}: none open"]))

    # ---- events ----------------------------------------------------------
    def expect(self, port, what):
        """The next event, which must be on @port; taken and unmasked."""
        got = self.dom0.wait(TIMEOUT)
        if got is None:
            dead = [f"dom{d} (pid {p.pid}) exited with {p.returncode}"
                    for d, p in self.procs.items() if p.poll() is not None and p.returncode]
            raise DemoError(f"no event on port {port} ({what}) within {TIMEOUT:.0f} s"
                            + (": " + ", ".join(dead) if dead else ""))
        self.dom0.unmask(got)
        if got != port:
            raise DemoError(f"an event on port {got}, expected {what} on port {port}")

    def ping(self, port, dom, lang):
        self.trace(f"pinging dom{dom} ({lang}) on port {port}: {self.rounds} rounds; "
                   f"it answers on the same channel")
        samples = []
        for _ in range(self.rounds):
            t = time.perf_counter()
            self.dom0.send(port)
            self.sent[dom] += 1
            self.expect(port, f"dom{dom}'s answer")
            self.received[dom] += 1
            samples.append((time.perf_counter() - t) * 1e6)
        self.rtt[(0, dom)] = samples
        self.trace(f"dom0 <-> dom{dom}: {self.rounds} round trips, median "
                   f"{statistics.median(samples):.1f} us")

    def check_state(self, dom, port, state, why):
        st = self.dom0.status(port, dom=dom)
        if st.state is not state:
            raise DemoError(f"dom{dom} port {port} is {st.state.name.lower()}, "
                            f"expected {state.name.lower()} ({why})")
        return st

    def wait_exit(self, dom, lang):
        code = self.procs[dom].wait(TIMEOUT)
        if code != 0:
            raise DemoError(f"dom{dom} ({lang}) exited with {code}")
        self.trace(f"dom{dom} ({lang}, pid {self.procs[dom].pid}) exited with status 0")

    # ---- the scene -------------------------------------------------------
    def run(self):
        x, rounds = self.x, self.rounds
        print(f"evtchnx demo, three languages on the shared sim lab \"{self.lab[4:]}\" "
              f"(libevtchnx {x.version()})")
        print("  dom0  Python, this process: the control domain, like a toolstack")
        print("  dom1  C      (examples/demo/guest.c), a process of its own")
        print("  dom2  Lua    (examples/demo/guest.lua), a process of its own")
        print(f"\n{'ms':>9}  {'who':<9} {'pid':<7}  what")
        self.section("1. dom0 builds the scene")
        self.dom0 = dom0 = x.Handle(self.lab)        # domain 0; the lab starts
        self.trace(f'open("{self.lab}", dom0)   the control domain; the lab server starts')
        for dom in (1, 2):
            dom0.domain_create(dom)
            self.trace(f"domain_create({dom})            exists before its guest runs")
        a1 = dom0.alloc_unbound(1)
        self.trace(f"alloc_unbound(SELF, 1) -> {a1}    dom0's end of a channel for dom1")
        a2 = dom0.alloc_unbound(2)
        self.trace(f"alloc_unbound(SELF, 2) -> {a2}    dom0's end of a channel for dom2")
        g12 = dom0.alloc_unbound(2, dom=1)
        self.trace(f"alloc_unbound(1, 2) -> {g12}       a port in dom1 offered to dom2; "
                   f"no process owns it yet")

        self.section("2. the guests start and bind")
        report = {d: os.path.join(self.scratch, f"dom{d}.json") for d in (1, 2)}
        t0 = f"{self.t0:.9f}"
        self.procs[1] = subprocess.Popen(
            [self.guest_c, self.lab, "1", str(a1), str(g12), "2", str(rounds), t0, report[1]])
        self.trace(f"started dom1 (C) as pid {self.procs[1].pid}: dom0's port {a1}, "
                   f"adopt port {g12}")
        self.expect(a1, "dom1's \"ready\"")
        self.received[1] += 1
        self.trace(f"event on port {a1}: dom1 is ready")
        env = dict(os.environ)
        for var in ("LUA_PATH", "LUA_PATH_5_4"):
            env[var] = f"{self.lua_dir}/?.lua;;"
        for var in ("LUA_CPATH", "LUA_CPATH_5_4"):
            env[var] = f"{self.lua_dir}/?.so;;"
        self.procs[2] = subprocess.Popen(
            [self.lua, os.path.join(HERE, "guest.lua"), self.lab, "2", str(a2), "1",
             str(g12), str(rounds), t0, report[2]], env=env)
        self.trace(f"started dom2 (Lua) as pid {self.procs[2].pid}: dom0's port {a2}, "
                   f"dom1's port {g12}")
        self.expect(a2, "dom2's \"ready\"")
        self.received[2] += 1
        self.trace(f"event on port {a2}: dom2 is ready")
        for dom, who in ((0, "dom0"), (1, "dom1"), (2, "dom2")):
            self.show(dom, who)

        self.section("3. events both ways on every channel")
        self.ping(a1, 1, "C")
        self.ping(a2, 2, "Lua")
        self.trace(f"send({a1})                       \"go\": dom1, ping dom2")
        dom0.send(a1)
        self.sent[1] += 1
        self.expect(a1, "dom1's \"done\"")
        self.received[1] += 1
        self.trace(f"event on port {a1}: dom1 is done")

        self.section("4. a guest leaves; its peers' ends go back to unbound")
        self.trace(f"send({a2})                       \"leave\", to dom2")
        dom0.send(a2)
        self.sent[2] += 1
        self.wait_exit(2, "Lua")
        self.check_state(0, a2, x.State.UNBOUND, "its peer dom2 has gone")
        self.check_state(1, g12, x.State.UNBOUND, "its peer dom2 has gone")
        self.trace(f"status(SELF, {a2}) -> unbound      dom0's end of the channel to dom2, "
                   f"offered to dom2 again")
        self.trace(f"status(1, {g12}) -> unbound         dom1's end of the channel to dom2")
        self.trace(f"send({a1})                       \"dom2 has left: look\", to dom1")
        dom0.send(a1)
        self.sent[1] += 1
        self.wait_exit(1, "C")
        self.check_state(0, a1, x.State.UNBOUND, "its peer dom1 has gone")
        for dom, who in ((0, "dom0"), (1, "dom1"), (2, "dom2")):
            self.show(dom, who)
        for dom in (1, 2):
            dom0.domain_destroy(dom)
            self.trace(f"domain_destroy({dom}) -> 0")
        dom0.close()
        self.trace("close()                         the lab server leaves once idle")
        self.summary(report)

    def summary(self, report):
        guests = {}
        for dom, path in report.items():
            with open(path) as f:
                guests[dom] = json.load(f)
        c, lua = guests[1], guests[2]
        if c["peer_port_state"] != "unbound":
            raise DemoError("dom1 did not find its port to dom2 unbound")
        # sent[a][b]: events a sent to b; received[b][a]: events b took from a.
        sent = {0: dict(self.sent), 1: {int(k): v for k, v in c["sent"].items()},
                2: {int(k): v for k, v in lua["sent"].items()}}
        received = {0: dict(self.received), 1: {int(k): v for k, v in c["received"].items()},
                    2: {int(k): v for k, v in lua["received"].items()}}
        lang = {0: "Python", 1: "C", 2: "Lua"}
        print(f"\nsummary: lab {self.lab[4:]}, {self.rounds} round trips per pair, "
              f"{(time.monotonic() - self.t0) * 1e3:.0f} ms in all")
        print(f"  {'from':<14} {'to':<14} {'sent':>7} {'received':>9}")
        bad = []
        for a, b in ((0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)):
            s, r = sent[a][b], received[b][a]
            print(f"  dom{a} {lang[a]:<9} dom{b} {lang[b]:<9} {s:>7} {r:>9}")
            # The last event to a leaving guest is taken, not answered;
            # every other was received, and something flowed each way.
            if s == 0 or s != r:
                bad.append(f"dom{a} -> dom{b}: {s} sent, {r} received")
        print("  (received excludes the events new binds leave pending)")
        print(f"\n  {'round trip':<28} {'median':>9} {'mean':>9}   measured by")
        rows = [(f"dom{a} <-> dom{b} ({lang[a]}-{lang[b]})", statistics.median(samples),
                 statistics.mean(samples), "dom0 (Python)")
                for (a, b), samples in sorted(self.rtt.items())]
        rows.append(("dom1 <-> dom2 (C-Lua)", c["rtt_median_us"], c["rtt_mean_us"], "dom1 (C)"))
        for name, median, mean, by in rows:
            print(f"  {name:<28} {median:>6.1f} us {mean:>6.1f} us   {by}")
        if bad:
            raise DemoError("events lost: " + "; ".join(bad))
        print("\n  every pair: events both ways, each one received; after dom2 left, "
              "dom0's and dom1's ends of its channels were unbound")

    def cleanup(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        if self.dom0 is not None and not self.dom0.closed:
            self.dom0.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
