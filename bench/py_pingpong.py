#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""py_pingpong - cross-process round trip from Python against C, same run.

    PYTHONPATH=BUILD/python /usr/bin/python3 bench/py_pingpong.py \\
        [--rtt BUILD/bench/rtt] [-n 5000] [-w 500] [-r 5] [-v]

Three kinds run interleaved in rounds (the order alternates), each over a
fresh shared lab "sim:pybench-PID-K" with domain 0 in this process and
domain 1 in a child process:

  C             BUILD/bench/rtt -r 1 -n N -w W (its "evtchnx wait" and
                "evtchnx poll+pending" figures);
  py blocking   both sides Python: send -> wait() -> unmask;
  py asyncio    both sides Python asyncio, await style: send -> await
                wait_async() -> unmask, and ``async for ... in events()``
                in the child;
  py asyncio handler
                both sides Python asyncio, callback style:
                Handle.add_event_handler(), the handler answers (send)
                from the loop's reader callback, the port is unmasked when
                it returns;
  floors        (report only) the same ping-pong over two pipes without
                evtchnx: blocking Python, asyncio with a future per message
                (add_reader + await: what await-style code pays) and
                asyncio with add_reader callbacks that answer inside the
                callback (no future, no task): what the interpreter and
                asyncio cost by themselves;
  uvloop        (report only, when python3-uvloop is installed) the asyncio
                kind on uvloop's event loop.

Like the C program, every wait is without timeout (the watchdog, -t,
covers a peer that never answers).  Each round yields the median round trip
per kind; the figures printed are
the medians of the rounds.  Targets (design, "Performance targets"):
py blocking <= 1.3 x C (wait), py asyncio <= 2 x C (poll+pending, the
same poll -> pending -> unmask -> send loop asyncio runs), for both asyncio
styles.  A report, not a test: exit status 0 when every kind ran, whatever
the figures.
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

try:  # Debian's python3-uvloop: reported as an extra kind when present
    import uvloop
except ImportError:
    uvloop = None

CHILD_TIMEOUT_S = 30.0


def run_async(main, mode: str):
    """asyncio.run(main()) on the default loop, or on uvloop for mode
    "asyncio-uvloop"."""
    factory = uvloop.new_event_loop if mode == "asyncio-uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


# ---- the child (domain 1) --------------------------------------------------

def die_with_parent() -> None:
    """PR_SET_PDEATHSIG(SIGKILL): the child must not outlive the parent,
    whose watchdog may kill it while the child blocks forever."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def floor_child(mode: str, rfd: int, wfd: int, total: int) -> None:
    """The floor's child: echo one byte per message over pipes."""
    die_with_parent()
    print("ready", flush=True)
    read, write = os.read, os.write
    if mode == "floor-blocking":
        for _ in range(total):
            read(rfd, 64)
            write(wfd, b"x")
    elif mode == "floor-asyncio-cb":
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
        run_async(echo_cb, mode)
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
        run_async(echo, mode)
    sys.stdin.readline()


def child(mode: str, lab: str, port: int, total: int) -> None:
    die_with_parent()
    with evtchnx.Handle(lab, domid=1) as h:
        q = h.bind_interdomain(0, port)
        got = h.wait(CHILD_TIMEOUT_S)  # binding leaves q pending
        if got != q:
            sys.exit(f"py_pingpong child: expected {q}, got {got}")
        h.unmask(q)
        print("ready", flush=True)
        if mode == "blocking":
            wait, unmask, send = h.wait, h.unmask, h.send
            for _ in range(total):
                wait()
                unmask(q)
                send(q)
        elif mode == "asyncio-handler":
            async def echo_handler() -> None:
                done = asyncio.get_running_loop().create_future()
                count = 0
                send = h.send

                def on_event(port: int) -> None:
                    nonlocal count
                    send(q)  # unmasked when the handler returns
                    count += 1
                    if count == total:
                        h.remove_event_handler()
                        done.set_result(None)

                h.add_event_handler(on_event)
                await done
            run_async(echo_handler, mode)
        else:
            async def echo() -> None:
                n = 0
                async for _ in h.events():  # unmasks after the body
                    h.send(q)
                    n += 1
                    if n == total:
                        return
            run_async(echo, mode)
        sys.stdin.readline()


# ---- the parent (domain 0) -------------------------------------------------

def start_child(mode: str, lab: str, port: int, total: int
                ) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", mode, lab,
         str(port), str(total)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"{mode} child did not start ({line!r})")
    return proc


def stop_child(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    if proc.wait(30) != 0:
        raise RuntimeError(f"child failed with status {proc.returncode}")


def run_python(mode: str, lab: str, n: int, warmup: int) -> float:
    """Median round trip in microseconds."""
    with evtchnx.Handle(lab) as h:
        p = h.alloc_unbound(1)
        proc = start_child(mode, lab, p, n + warmup)
        try:
            now = time.perf_counter_ns
            samples = [0] * n
            if mode == "blocking":
                send, wait, unmask = h.send, h.wait, h.unmask
                for i in range(-warmup, n):
                    t0 = now()
                    send(p)
                    wait()
                    unmask(p)
                    if i >= 0:
                        samples[i] = now() - t0
            elif mode == "asyncio-handler":
                async def pingpong_handler() -> None:
                    done = asyncio.get_running_loop().create_future()
                    send = h.send
                    i = -warmup
                    t0 = 0

                    def on_event(port: int) -> None:
                        nonlocal i, t0
                        if i >= 0:
                            samples[i] = now() - t0
                        i += 1
                        if i == n:
                            h.remove_event_handler()
                            done.set_result(None)
                            return
                        t0 = now()
                        send(p)  # p is unmasked when this returns

                    h.add_event_handler(on_event)
                    t0 = now()
                    send(p)
                    await done
                run_async(pingpong_handler, mode)
            else:
                async def pingpong() -> None:
                    send, wait_async, unmask = h.send, h.wait_async, h.unmask
                    for i in range(-warmup, n):
                        t0 = now()
                        send(p)
                        await wait_async()
                        unmask(p)
                        if i >= 0:
                            samples[i] = now() - t0
                run_async(pingpong, mode)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        stop_child(proc)
    return statistics.median(samples) / 1000.0


def run_floor(mode: str, n: int, warmup: int) -> float:
    """The same ping-pong over two pipes with no evtchnx at all: what any
    Python (blocking) or asyncio program pays for one wake-up per side.
    Median round trip in microseconds."""
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", mode,
         str(to_child_r), str(to_parent_w), str(n + warmup)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        pass_fds=(to_child_r, to_parent_w))
    os.close(to_child_r)
    os.close(to_parent_w)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{mode} child did not start")
        now = time.perf_counter_ns
        samples = [0] * n
        read, write = os.read, os.write
        rfd, wfd = to_parent_r, to_child_w
        if mode == "floor-blocking":
            for i in range(-warmup, n):
                t0 = now()
                write(wfd, b"x")
                read(rfd, 64)
                if i >= 0:
                    samples[i] = now() - t0
        elif mode == "floor-asyncio-cb":
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
            run_async(pingpong_cb, mode)
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
            run_async(pingpong, mode)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        os.close(to_parent_r)
        os.close(to_child_w)
    stop_child(proc)
    return statistics.median(samples) / 1000.0


RTT_LINE = re.compile(r"^rtt evtchnx (poll\+pending|wait)\s+median\s+"
                      r"([0-9.]+) us/rt")


def run_c(rtt: str, n: int, warmup: int, verbose: bool) -> dict:
    """The C figures of one round: {"poll+pending": us, "wait": us}."""
    res = subprocess.run([rtt, "-r", "1", "-n", str(n), "-w", str(warmup)],
                         capture_output=True, text=True, timeout=600)
    if verbose:
        sys.stdout.write("".join("    | " + line + "\n"
                                 for line in res.stdout.splitlines()))
    if res.returncode != 0:
        raise RuntimeError(f"{rtt} failed ({res.returncode}): "
                           + res.stderr.strip())
    out = {}
    for line in res.stdout.splitlines():
        m = RTT_LINE.match(line)
        if m:
            out[m.group(1)] = float(m.group(2))
    if set(out) != {"poll+pending", "wait"}:
        raise RuntimeError(f"could not read {rtt}'s output")
    return out


def default_rtt() -> str:
    # evtchnx lives in BUILD/python/evtchnx when run from a build tree.
    build = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(evtchnx.__file__))))
    return os.path.join(build, "bench", "rtt")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


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
    ap.add_argument("-t", type=int, default=600, help="watchdog, seconds")
    ap.add_argument("-v", action="store_true", help="print every round")
    args = ap.parse_args()
    if args.n < 1 or args.w < 0 or args.r < 1:
        ap.error("-n and -r must be >= 1, -w >= 0")
    signal.alarm(args.t)
    rtt = args.rtt or default_rtt()
    if not os.access(rtt, os.X_OK):
        print(f"py_pingpong: C program {rtt} not found (build the bench "
              "target, or pass --rtt)", file=sys.stderr)
        return 1

    print(f"py_pingpong: {sys.executable} {sys.version.split()[0]}, evtchnx "
          f"{evtchnx.version()}, nproc {os.cpu_count()}, {args.n} round trips "
          f"x {args.r} rounds (warm-up {args.w}), figures are medians of "
          "rounds")
    c_wait, c_poll, py_b, py_a, rb, ra = [], [], [], [], [], []
    fl_b, fl_a, py_u = [], [], []
    py_h, fl_c, rh = [], [], []
    for k in range(args.r):
        lab = f"sim:pybench-{os.getpid()}-{k}"
        kinds = ["c", "blocking", "asyncio", "asyncio-handler",
                 "floor-blocking", "floor-asyncio", "floor-asyncio-cb"]
        if uvloop is not None:
            kinds.append("asyncio-uvloop")
        if k % 2:
            kinds.reverse()
        res = {}
        for kind in kinds:
            if kind == "c":
                res.update(run_c(rtt, args.n, args.w, args.v))
            elif kind.startswith("floor-"):
                res[kind] = run_floor(kind, args.n, args.w)
            else:
                res[kind] = run_python(kind, f"{lab}-{kind}", args.n,
                                       args.w)
        c_wait.append(res["wait"])
        c_poll.append(res["poll+pending"])
        py_b.append(res["blocking"])
        py_a.append(res["asyncio"])
        fl_b.append(res["floor-blocking"])
        fl_a.append(res["floor-asyncio"])
        py_h.append(res["asyncio-handler"])
        fl_c.append(res["floor-asyncio-cb"])
        if "asyncio-uvloop" in res:
            py_u.append(res["asyncio-uvloop"])
        rb.append(res["blocking"] / res["wait"])
        ra.append(res["asyncio"] / res["poll+pending"])
        rh.append(res["asyncio-handler"] / res["poll+pending"])
        if args.v:
            print(f"  round {k + 1}: C wait {res['wait']:.1f}  C poll "
                  f"{res['poll+pending']:.1f}  py blocking "
                  f"{res['blocking']:.1f}  py asyncio {res['asyncio']:.1f}  "
                  f"handler {res['asyncio-handler']:.1f}  "
                  f"floors {res['floor-blocking']:.1f} "
                  f"{res['floor-asyncio']:.1f} "
                  f"{res['floor-asyncio-cb']:.1f} us/rt  ratios {rb[-1]:.3f} "
                  f"{ra[-1]:.3f} {rh[-1]:.3f}")

    med = statistics.median
    print(f"py C evtchnx wait          median {med(c_wait):6.1f} us/rt")
    print(f"py C evtchnx poll+pending  median {med(c_poll):6.1f} us/rt")
    print(f"py python blocking         median {med(py_b):6.1f} us/rt")
    print(f"py python asyncio          median {med(py_a):6.1f} us/rt"
          "  (await wait_async / async for)")
    print(f"py python asyncio handler  median {med(py_h):6.1f} us/rt"
          "  (add_event_handler)")
    print(f"py floor python pipes      median {med(fl_b):6.1f} us/rt"
          "  (report only)")
    print(f"py floor asyncio pipes     median {med(fl_a):6.1f} us/rt"
          "  (report only: add_reader + a future per message)")
    print(f"py floor asyncio pipes cb  median {med(fl_c):6.1f} us/rt"
          "  (report only: add_reader, answer in the callback)")
    print(f"py per-round ratios        blocking median {med(rb):.3f} "
          f"min {min(rb):.3f} max {max(rb):.3f}; asyncio median "
          f"{med(ra):.3f} min {min(ra):.3f} max {max(ra):.3f}; handler "
          f"median {med(rh):.3f} min {min(rh):.3f} max {max(rh):.3f}")
    r_b = med(py_b) / med(c_wait)
    r_a = med(py_a) / med(c_poll)
    print(f"ratio python-blocking/C {r_b:.3f} (target <= 1.3) "
          f"{verdict(r_b <= 1.3)}")
    r_h = med(py_h) / med(c_poll)
    print(f"ratio python-asyncio/C {r_a:.3f} (target <= 2) "
          f"{verdict(r_a <= 2.0)}")
    print(f"ratio python-asyncio-handler/C {r_h:.3f} (target <= 2) "
          f"{verdict(r_h <= 2.0)}")
    if py_u:
        print(f"ratio python-asyncio-uvloop/C {med(py_u) / med(c_poll):.3f} "
              f"(report only: {med(py_u):.1f} us/rt on uvloop)")
    print(f"ratio asyncio-floor/C {med(fl_a) / med(c_poll):.3f} (report only: "
          "asyncio itself with futures, no evtchnx)")
    print(f"ratio asyncio-cb-floor/C {med(fl_c) / med(c_poll):.3f} (report "
          "only: asyncio itself with callbacks, no evtchnx)")
    print(f"ratio python-asyncio/asyncio-floor {med(py_a) / med(fl_a):.3f} "
          "(report only: what the binding adds to await-style asyncio)")
    print(f"ratio python-asyncio-handler/asyncio-cb-floor "
          f"{med(py_h) / med(fl_c):.3f} (report only: what the binding adds "
          "to callback-style asyncio)")
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
