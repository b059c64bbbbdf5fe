#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""py_pingpong - cross-process round trip from Python, against asyncio's
own floor and against C, in the same run.

    PYTHONPATH=BUILD/python /usr/bin/python3 bench/py_pingpong.py \\
        [--rtt BUILD/bench/rtt] [-n 5000] [-w 500] [-r 5] [-s 2] [-v]

Every kind runs once per round, the order rotating from round to round;
each evtchnx kind over a fresh shared lab "sim:pybench-PID-K-KIND" with
domain 0 in this process and domain 1 in a child process:

  C              BUILD/bench/rtt -r 1 -n N -w W (its poll+pending and wait
                 figures, and whether its round was valid);
  blocking       both sides Python: send -> wait() -> unmask;
  floor-blocking the same over two pipes, no evtchnx;
and for each event loop, asyncio's default loop and uvloop (when
python3-uvloop is installed), the floors on the same loop:
  await-LOOP     await style: send -> await wait_async() -> unmask, and
                 ``async for ... in events()`` in the child;
  batch-LOOP     batch callback style: add_event_handler(batch=True), the
                 handler answers (send) inside the loop's reader callback,
                 the ports are unmasked together when it returns;
  handler-LOOP   per-port callback style: add_event_handler() (reported);
  floor-await-LOOP  the ping-pong over pipes in pure asyncio, a future per
                 message (add_reader + await): the floor of the await style;
  floor-cb-LOOP  the same answering inside the add_reader callback: the
                 floor of the callback styles.

A kind that does not complete its round trips (no answer within -s
seconds: a lost message) makes its round invalid; invalid rounds are left
out of every figure.  Targets: await and batch styles <= 1.2 x their floor
on the same loop (the await style against floor-await, the batch style
against floor-cb); blocking <= 1.3 x C (evtchnx_wait).  The other ratios
are reported.  Each figure is printed as a RESULT line, like the C
programs.  A report, not a test: exit status 0 when every kind ran,
whatever the figures.
"""

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import time

import evtchnx

try:  # Debian's python3-uvloop: its loop is measured too when present
    import uvloop
except ImportError:
    uvloop = None

CHILD_TIMEOUT_S = 30.0
FLOOR_TARGET = 1.2
BLOCKING_TARGET = 1.3
LOOPS = ["asyncio"] + (["uvloop"] if uvloop is not None else [])


class Stall(Exception):
    """A kind stopped making progress: a message was lost."""


# Round trips done by the kind in progress (the stall check reads it; -1
# while its child starts).
_progress = [0]
# The stall limit in seconds (-s); 0 in the children, which do not check.
_stall_s = [0.0]
TICK_S = 0.25


class _Watch:
    """Whether the kind in progress stopped making progress."""

    def __init__(self) -> None:
        self.seen = -1
        self.since = time.monotonic()

    def stalled(self) -> bool:
        now = time.monotonic()
        if _progress[0] < 0 or _progress[0] != self.seen:
            self.seen = _progress[0]
            self.since = now
            return False
        return now - self.since > _stall_s[0]

    def error(self) -> Stall:
        return Stall(f"no round trip for {_stall_s[0]:g} s (after "
                     f"{_progress[0]})")


def blocking_watch() -> None:
    """For the blocking kinds: a SIGALRM every TICK_S raises Stall in
    whatever the main thread blocks in (the measured calls stay the plain
    blocking ones; PEP 475 runs the handler and lets its exception out)."""
    watch = _Watch()

    def handler(signum, frame):
        if watch.stalled():
            raise watch.error()
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, TICK_S, TICK_S)


def loop_factory(kind: str):
    """The event loop of a kind: uvloop's for the *-uvloop kinds."""
    if kind.endswith("-uvloop"):
        return uvloop.new_event_loop
    return asyncio.new_event_loop


def run_async(main, kind: str):
    """Run ``main()`` on the kind's loop.  In the parent, a callback every
    TICK_S looks at the progress and cancels ``main`` with Stall when a
    message was lost (a signal handler cannot: uvloop logs its exception
    and goes on)."""
    async def guarded():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        watch = _Watch()
        lost = []

        def check() -> None:
            if watch.stalled():
                lost.append(watch.error())
                task.cancel()
            else:
                timer[0] = loop.call_later(TICK_S, check)

        timer = [loop.call_later(TICK_S, check)]
        try:
            return await main()
        except asyncio.CancelledError:
            if lost:
                raise lost[0] from None
            raise
        finally:
            timer[0].cancel()

    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(guarded() if _stall_s[0] else main())


# ---- the child (domain 1) --------------------------------------------------

def die_with_parent() -> None:
    """PR_SET_PDEATHSIG(SIGKILL): the child must not outlive the parent,
    which kills it after a stall."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def floor_child(kind: str, rfd: int, wfd: int, total: int) -> None:
    """The floor's child: echo one byte per message over pipes."""
    die_with_parent()
    print("ready", flush=True)
    read, write = os.read, os.write
    if kind == "floor-blocking":
        for _ in range(total):
            read(rfd, 64)
            write(wfd, b"x")
    elif kind.startswith("floor-cb-"):
        async def echo_cb() -> None:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            count = 0

            def on_readable() -> None:
                nonlocal count
                read(rfd, 64)
                write(wfd, b"x")
                count += 1
                if count == total:
                    loop.remove_reader(rfd)
                    done.set_result(None)

            loop.add_reader(rfd, on_readable)
            await done
        run_async(echo_cb, kind)
    else:
        async def echo() -> None:
            loop = asyncio.get_running_loop()
            waiter = None

            def on_readable() -> None:
                read(rfd, 64)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

            loop.add_reader(rfd, on_readable)
            for _ in range(total):
                waiter = loop.create_future()
                await waiter
                write(wfd, b"x")
        run_async(echo, kind)
    sys.stdin.readline()


def child(kind: str, lab: str, port: int, total: int) -> None:
    die_with_parent()
    with evtchnx.Handle(lab, domid=1) as h:
        q = h.bind_interdomain(0, port)
        got = h.wait(CHILD_TIMEOUT_S)  # binding leaves q pending
        if got != q:
            sys.exit(f"py_pingpong child: expected {q}, got {got}")
        h.unmask(q)
        print("ready", flush=True)
        send = h.send
        if kind == "blocking":
            wait, unmask = h.wait, h.unmask
            for _ in range(total):
                wait()
                unmask(q)
                send(q)
        elif kind.startswith(("handler-", "batch-")):
            batch = kind.startswith("batch-")

            async def echo_handler() -> None:
                done = asyncio.get_running_loop().create_future()
                count = 0

                def on_event(_port_or_ports: object) -> None:
                    nonlocal count
                    send(q)  # unmasked when the handler returns
                    count += 1
                    if count == total:
                        h.remove_event_handler()
                        done.set_result(None)

                h.add_event_handler(on_event, batch=batch)
                await done
            run_async(echo_handler, kind)
        else:
            async def echo() -> None:
                n = 0
                async for _ in h.events():  # unmasks after the body
                    send(q)
                    n += 1
                    if n == total:
                        return
            run_async(echo, kind)
        sys.stdin.readline()


# ---- the parent (domain 0) -------------------------------------------------

def start(argv, **kw) -> subprocess.Popen:
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, **kw)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{argv[3]} child did not start ({line!r})")
    return proc


def stop_child(proc: subprocess.Popen, stalled: bool) -> None:
    if stalled:
        proc.kill()
        proc.wait()
        return
    assert proc.stdin is not None
    proc.stdin.close()
    if proc.wait(30) != 0:
        raise RuntimeError(f"child failed with status {proc.returncode}")


def measure(kind: str, samples: list, n: int, warmup: int, send, take):
    """The parent's side of one kind: ``send()`` a ping, ``take()`` the
    answer (blocking), for the blocking kinds."""
    now = time.perf_counter_ns
    progress = _progress
    for i in range(-warmup, n):
        t0 = now()
        send()
        take()
        if i >= 0:
            samples[i] = now() - t0
        progress[0] = i + warmup + 1


def run_python(kind: str, lab: str, n: int, warmup: int) -> float:
    """Median round trip in microseconds; raises Stall."""
    now = time.perf_counter_ns
    progress = _progress
    samples = [0] * n
    with evtchnx.Handle(lab) as h:
        p = h.alloc_unbound(1)
        proc = start([sys.executable, os.path.abspath(__file__), "--child", kind,
                      lab, str(p), str(n + warmup)])
        progress[0] = 0
        try:
            send = h.send
            if kind == "blocking":
                wait, unmask = h.wait, h.unmask

                def take() -> None:
                    wait()
                    unmask(p)
                measure(kind, samples, n, warmup, lambda: send(p), take)
            elif kind.startswith(("handler-", "batch-")):
                batch = kind.startswith("batch-")

                async def pingpong_handler() -> None:
                    done = asyncio.get_running_loop().create_future()
                    i = -warmup
                    t0 = 0

                    def on_event(_port_or_ports: object) -> None:
                        nonlocal i, t0
                        if i >= 0:
                            samples[i] = now() - t0
                        i += 1
                        progress[0] = i + warmup
                        if i == n:
                            h.remove_event_handler()
                            done.set_result(None)
                            return
                        t0 = now()
                        send(p)  # p is unmasked when this returns

                    h.add_event_handler(on_event, batch=batch)
                    t0 = now()
                    send(p)
                    await done
                run_async(pingpong_handler, kind)
            else:
                async def pingpong() -> None:
                    wait_async, unmask = h.wait_async, h.unmask
                    for i in range(-warmup, n):
                        t0 = now()
                        send(p)
                        await wait_async()
                        unmask(p)
                        if i >= 0:
                            samples[i] = now() - t0
                        progress[0] = i + warmup + 1
                run_async(pingpong, kind)
        except BaseException:
            stop_child(proc, True)
            raise
        stop_child(proc, False)
    return statistics.median(samples) / 1000.0


def run_floor(kind: str, n: int, warmup: int) -> float:
    """The same ping-pong over two pipes with no evtchnx at all: what any
    Python (blocking) or asyncio program pays for one wake-up per side.
    Median round trip in microseconds; raises Stall."""
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()
    now = time.perf_counter_ns
    progress = _progress
    samples = [0] * n
    read, write = os.read, os.write
    rfd, wfd = to_parent_r, to_child_w
    try:
        proc = start([sys.executable, os.path.abspath(__file__), "--child", kind,
                      str(to_child_r), str(to_parent_w), str(n + warmup)],
                     pass_fds=(to_child_r, to_parent_w))
    except BaseException:
        for fd in (to_child_r, to_parent_w, to_parent_r, to_child_w):
            os.close(fd)
        raise
    os.close(to_child_r)
    os.close(to_parent_w)
    progress[0] = 0
    try:
        if kind == "floor-blocking":
            measure(kind, samples, n, warmup, lambda: write(wfd, b"x"),
                    lambda: read(rfd, 64))
        elif kind.startswith("floor-cb-"):
            async def pingpong_cb() -> None:
                loop = asyncio.get_running_loop()
                done = loop.create_future()
                i = -warmup
                t0 = 0

                def on_readable() -> None:
                    nonlocal i, t0
                    read(rfd, 64)
                    if i >= 0:
                        samples[i] = now() - t0
                    i += 1
                    progress[0] = i + warmup
                    if i == n:
                        loop.remove_reader(rfd)
                        done.set_result(None)
                        return
                    t0 = now()
                    write(wfd, b"x")

                loop.add_reader(rfd, on_readable)
                t0 = now()
                write(wfd, b"x")
                await done
            run_async(pingpong_cb, kind)
        else:
            async def pingpong() -> None:
                loop = asyncio.get_running_loop()
                waiter = None

                def on_readable() -> None:
                    read(rfd, 64)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)

                loop.add_reader(rfd, on_readable)
                for i in range(-warmup, n):
                    t0 = now()
                    waiter = loop.create_future()
                    write(wfd, b"x")
                    await waiter
                    if i >= 0:
                        samples[i] = now() - t0
                    progress[0] = i + warmup + 1
            run_async(pingpong, kind)
    except BaseException:
        stop_child(proc, True)
        raise
    finally:
        os.close(to_parent_r)
        os.close(to_child_w)
    stop_child(proc, False)
    return statistics.median(samples) / 1000.0


RESULT_LINE = re.compile(r"^RESULT (rtt\.evtchnx(?:_wait)?_us) median=(\S+) "
                         r".*valid=(\d+)/")


def run_c(rtt: str, n: int, warmup: int, stall: int, verbose: bool) -> dict:
    """The C figures of one round: {"c-poll": us, "c-wait": us}, with None
    for a figure whose round was invalid."""
    res = subprocess.run([rtt, "-r", "1", "-n", str(n), "-w", str(warmup),
                          "-s", str(stall)],
                         capture_output=True, text=True, timeout=600)
    if verbose:
        sys.stdout.write("".join("    | " + line + "\n"
                                 for line in res.stdout.splitlines()))
    if res.returncode != 0:
        raise RuntimeError(f"{rtt} failed ({res.returncode}): "
                           + res.stderr.strip())
    out = {}
    for line in res.stdout.splitlines():
        m = RESULT_LINE.match(line)
        if m:
            key = "c-wait" if m.group(1).endswith("wait_us") else "c-poll"
            out[key] = float(m.group(2)) if int(m.group(3)) else None
    if set(out) != {"c-poll", "c-wait"}:
        raise RuntimeError(f"could not read {rtt}'s RESULT lines")
    return out


def default_rtt() -> str:
    # evtchnx lives in BUILD/python/evtchnx when run from a build tree.
    build = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(evtchnx.__file__))))
    return os.path.join(build, "bench", "rtt")


# ---- figures ---------------------------------------------------------------

def result(name: str, values: list, rounds: int, target: str = "",
           decimals: int = 3) -> str:
    """The RESULT line of a figure (as bench_util.h's bench_result()) and
    its verdict; ``values`` holds the figure of each valid round."""
    if target:
        op, t = target[:2], float(target[2:])
    if not values:
        verdict = "INVALID" if target else "REPORT"
        print(f"RESULT {name} median=nan min=nan max=nan valid=0/{rounds} "
              f"target{target or '=none'} verdict={verdict}")
        return verdict
    med = statistics.median(values)
    if target:
        verdict = "PASS" if (med <= t if op == "<=" else med >= t) else "FAIL"
    else:
        verdict = "REPORT"
    print(f"RESULT {name} median={med:.{decimals}f} "
          f"min={min(values):.{decimals}f} max={max(values):.{decimals}f} "
          f"valid={len(values)}/{rounds} target{target or '=none'} "
          f"verdict={verdict}")
    return verdict


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rtt", default=None,
                    help="the C rtt program (default: BUILD/bench/rtt next "
                    "to the evtchnx package's build tree)")
    ap.add_argument("-n", type=int, default=5000,
                    help="measured round trips per kind and round")
    ap.add_argument("-w", type=int, default=500,
                    help="unmeasured warm-up round trips")
    ap.add_argument("-r", type=int, default=5, help="rounds")
    ap.add_argument("-s", type=int, default=2,
                    help="a kind that completes no round trip for this many "
                    "seconds lost a message: its round is invalid")
    ap.add_argument("-t", type=int, default=600, help="watchdog, seconds")
    ap.add_argument("-v", action="store_true", help="print every round")
    args = ap.parse_args()
    if args.n < 1 or args.w < 0 or args.r < 1 or args.s < 1:
        ap.error("-n, -r and -s must be >= 1, -w >= 0")
    deadline = time.monotonic() + args.t
    _stall_s[0] = float(args.s)
    rtt = args.rtt or default_rtt()
    if not os.access(rtt, os.X_OK):
        print(f"py_pingpong: C program {rtt} not found (build the bench "
              "target, or pass --rtt)", file=sys.stderr)
        return 1

    kinds = ["c", "blocking", "floor-blocking"]
    for lp in LOOPS:
        kinds += [f"await-{lp}", f"batch-{lp}", f"handler-{lp}",
                  f"floor-await-{lp}", f"floor-cb-{lp}"]
    print(f"py_pingpong: {sys.executable} {sys.version.split()[0]}, evtchnx "
          f"{evtchnx.version()}, loops {', '.join(LOOPS)}"
          f"{'' if uvloop else ' (uvloop not installed)'}, nproc "
          f"{os.cpu_count()}, {args.n} round trips x {args.r} rounds (warm-up "
          f"{args.w}), figures are medians of the valid rounds")
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(f"warning: load average {load:.2f} on {os.cpu_count()} CPUs: "
              "other processes compete for the CPUs, figures are noisy")

    rounds = []  # per round: {kind: us or None}
    for k in range(args.r):
        order = kinds[k % len(kinds):] + kinds[:k % len(kinds)]
        if k % 2:
            order.reverse()
        res = {}
        for kind in order:
            if time.monotonic() > deadline:
                print("py_pingpong: watchdog expired", file=sys.stderr)
                return 3
            if kind == "c":
                res.update(run_c(rtt, args.n, args.w, args.s, args.v))
                continue
            _progress[0] = -1
            if kind.endswith("blocking"):
                blocking_watch()
            try:
                if kind.startswith("floor-"):
                    res[kind] = run_floor(kind, args.n, args.w)
                else:
                    res[kind] = run_python(
                        kind, f"sim:pybench-{os.getpid()}-{k}-{kind}",
                        args.n, args.w)
            except Stall as e:
                print(f"py_pingpong: round {k + 1}: {kind} lost a message "
                      f"({e}): round invalid")
                res[kind] = None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0, 0)
        rounds.append(res)
        bad = [kd for kd, v in res.items() if v is None]
        print(f"py round {k + 1}: " + "  ".join(
            f"{kd} {'INVALID' if res[kd] is None else format(res[kd], '.1f')}"
            for kd in ["c-poll", "c-wait"] + kinds[1:]) + " us/rt"
            + (f"  INVALID ({', '.join(bad)})" if bad else ""))

    valid = [r for r in rounds if all(v is not None for v in r.values())]
    nr = len(rounds)
    print(f"py rounds {len(valid)} valid, {nr - len(valid)} invalid (a kind, "
          "floor included, did not complete its round trips; left out)")

    def col(kind):
        return [r[kind] for r in valid]

    def ratio(a, b):
        return [r[a] / r[b] for r in valid]

    for kind in ["c-poll", "c-wait"] + kinds[1:]:
        v = col(kind)
        if v:
            print(f"py {kind:22s} median {statistics.median(v):8.1f} us/rt  "
                  f"min {min(v):8.1f}  max {max(v):8.1f}"
                  f"{'  (floor)' if kind.startswith('floor-') else ''}")
    figures = [
        ("py.blocking_c_ratio", "python-blocking/C-wait", "blocking", "c-wait",
         f"<={BLOCKING_TARGET}"),
        ("py.blocking_floor_ratio", "python-blocking/pipes-floor", "blocking",
         "floor-blocking", ""),
    ]
    for lp in LOOPS:
        figures += [
            (f"py.{lp}.await_floor_ratio", f"await-{lp}/floor-await-{lp}",
             f"await-{lp}", f"floor-await-{lp}", f"<={FLOOR_TARGET}"),
            (f"py.{lp}.batch_floor_ratio", f"batch-{lp}/floor-cb-{lp}",
             f"batch-{lp}", f"floor-cb-{lp}", f"<={FLOOR_TARGET}"),
            (f"py.{lp}.handler_floor_ratio", f"handler-{lp}/floor-cb-{lp}",
             f"handler-{lp}", f"floor-cb-{lp}", ""),
            (f"py.{lp}.await_c_ratio", f"await-{lp}/C-poll+pending",
             f"await-{lp}", "c-poll", ""),
            (f"py.{lp}.batch_c_ratio", f"batch-{lp}/C-poll+pending",
             f"batch-{lp}", "c-poll", ""),
            (f"py.{lp}.floor_await_c_ratio", f"floor-await-{lp}/C-poll+pending",
             f"floor-await-{lp}", "c-poll", ""),
        ]
    lines = []
    for key, label, a, b, target in figures:
        v = ratio(a, b)
        med = f"{statistics.median(v):.3f}" if v else "n/a"
        if target:
            ok = (statistics.median(v) <= float(target[2:])) if v else None
            verdict = "INVALID" if ok is None else "PASS" if ok else "FAIL"
            print(f"ratio {label} {med} (target {target}) {verdict}"
                  f"{'' if len(v) == nr else ' (over the valid rounds only)' if v else ' (no valid round)'}")
        else:
            print(f"ratio {label} {med} (report only)")
        lines.append((key, v, target))
    for key, v, target in lines:
        result(key, v, nr, target)
    for kind in ["c-poll", "c-wait"] + kinds[1:]:
        result("py." + kind.replace("-", "_") + "_us", col(kind), nr, "", 2)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child" and \
            sys.argv[2].startswith("floor-"):
        floor_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                    int(sys.argv[5]))
    elif len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(main())
