#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""`evtchnx watch` on a lab where one channel carries events and another is
idle: the JSON frames must show the domains, their channels, a non-zero
rate on the busy link and zero on the idle one; the text mode must print
one frame per interval when stdout is not a terminal.

    watch.py EVTCHNX      (PYTHONPATH: the build tree's python/)
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import evtchnx

CLI = sys.argv[1]
LAB = f"watch-{os.getpid()}"


def cli(*args, check=True):
    # stderr to a file: a lab server that `lab start` leaves running keeps
    # its stderr open.
    with tempfile.TemporaryFile("w+") as err:
        r = subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=err, text=True,
                           timeout=30)
        err.seek(0)
        r.stderr = err.read()
    if check and r.returncode != 0:
        sys.exit(f"evtchnx {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r


def first_line(path, proc):
    """The first line a background command wrote to @path."""
    for _ in range(500):
        with open(path) as f:
            line = f.readline()
        if line.endswith("\n"):
            return json.loads(line)
        if proc.poll() is not None:
            sys.exit(f"{proc.args}: exited {proc.returncode} before binding")
        time.sleep(0.01)
    sys.exit(f"{proc.args}: no first line within 5 s")


def check(cond, what, frame=None):
    if not cond:
        if frame is not None:
            print(json.dumps(frame, indent=1), file=sys.stderr)
        sys.exit(f"FAIL: {what}")
    print(f"ok: {what}")


def main():
    scratch = tempfile.mkdtemp(prefix="evtchnx-watch-")
    os.environ["XDG_RUNTIME_DIR"] = scratch   # a lab directory of our own
    procs = []
    try:
        cli("lab", "start", LAB)
        cli("domain", "create", "--lab", LAB, "1", "2", "3")
        busy = int(cli("alloc", "--lab", LAB, "--dom", "1", "--remote", "2").stdout)
        idle = int(cli("alloc", "--lab", LAB, "--dom", "1", "--remote", "3").stdout)
        dom1 = evtchnx.Handle(f"sim:{LAB}", domid=1)
        dom1.adopt(busy)
        dom1.adopt(idle)
        ends = {}
        for dom, port in ((2, busy), (3, idle)):
            out = os.path.join(scratch, f"bind{dom}.out")
            with open(out, "w") as f:
                p = subprocess.Popen([CLI, "bind", "--lab", LAB, "--domid", str(dom),
                                      "--json", "1", str(port)], stdout=f)
            procs.append(p)
            ends[dom] = first_line(out, p)["port"]

        # dom1 sends on the busy channel while watch takes two frames.
        watch = subprocess.Popen([CLI, "watch", "--lab", LAB, "--count", "2",
                                  "--interval", "200", "--json"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sent = 0
        while watch.poll() is None:
            dom1.send(busy)
            sent += 1
            time.sleep(0.001)
        out, err = watch.communicate()
        check(watch.returncode == 0, f"watch exits 0 (stderr: {err.strip()})")
        lines = out.splitlines()
        check(len(lines) == 2, f"two JSON lines for --count 2 (got {len(lines)})")
        frames = [json.loads(line) for line in lines]
        f1, f2 = frames
        check([f["frame"] for f in frames] == [1, 2] and f2["lab"] == LAB,
              "frames are numbered and name the lab")
        check(f1["elapsed_ms"] is None and 150 <= f2["elapsed_ms"],
              f"the second frame comes an interval later ({f2['elapsed_ms']} ms)")
        doms = {d["dom"]: d for d in f2["domains"]}
        check(sorted(doms) == [0, 1, 2, 3], f"domains 0-3 are shown ({sorted(doms)})", f2)
        ports1 = {p["port"]: p for p in doms[1]["ports"]}
        check(ports1.get(busy) == {"port": busy, "state": "interdomain", "remote_dom": 2,
                                   "remote_port": ends[2], "vcpu": 0},
              "dom1's busy port is interdomain with dom2's port", f2)
        check(ports1.get(idle, {}).get("remote_dom") == 3 and
              ports1[idle]["state"] == "interdomain",
              "dom1's idle port is interdomain with dom3", f2)
        check(doms[1]["handles"] == 1 and doms[2]["handles"] == 1 and doms[3]["handles"] == 1,
              "each guest domain has one handle", f2)
        links = {(l["from"]["dom"], l["to"]["dom"]): l for l in f2["links"]}
        check({(1, 2), (2, 1), (1, 3), (3, 1)} <= set(links),
              f"a link each way for each channel ({sorted(links)})", f2)
        b, i = links[(1, 2)], links[(1, 3)]
        check(b["from"]["pid"] == os.getpid() and b["to"]["pid"] == procs[0].pid,
              "links name the processes at both ends", f2)
        check(all(l["rate"] is None for l in f1["links"]), "no rate in the first frame", f1)
        check(b["events"] > 0 and b["rate"] > 0,
              f"the busy link carried events at a non-zero rate "
              f"({b['events']} events, {b['rate']}/s; {sent} sends)", f2)
        check(b["events"] <= sent, "a link counts no more events than were sent", f2)
        check(i["events"] == 0 and i["rate"] == 0 and links[(2, 1)]["rate"] == 0,
              "the idle links carried nothing, at rate 0", f2)
        check(b["channels"] == 1 and i["channels"] == 1, "one channel per link", f2)

        # Text mode, not a terminal: one frame after the other, no ANSI.
        text = cli("watch", "--lab", LAB, "--count", "2", "--interval", "50").stdout
        check(text.count(f"lab {LAB}   frame ") == 2 and "\033" not in text,
              "text mode prints two frames without escape sequences")
        check("EVENTS/S" in text and "dom1 port" in text and "interdomain" in text,
              "text mode shows the channels and the rates")
        print(text)

        # More links than one reply holds (PROTO_MAX_STATS, 128): every
        # page arrives, none twice.
        many = [evtchnx.Handle(f"sim:{LAB}", domid=10 + k) for k in range(12)]
        for a in range(12):
            for b in range(a + 1, 12):
                p = many[a].alloc_unbound(10 + b)
                many[b].bind_interdomain(10 + a, p)
        r = cli("watch", "--lab", LAB, "--count", "1", "--json")
        ids = [l["link"] for l in json.loads(r.stdout)["links"]]
        check(len(ids) == 4 + 12 * 11 and len(set(ids)) == len(ids),
              f"a lab with {len(ids)} links is shown whole, over several pages")
        for h in many:
            h.close()
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        cli("lab", "stop", LAB, check=False)
        subprocess.run(["rm", "-rf", scratch])


if __name__ == "__main__":
    main()
