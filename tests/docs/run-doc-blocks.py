#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Run the code blocks of the documentation (README.md and docs/*.md).

Every fenced block is run, unless the line just before its fence is an
excerpt marker:

    <!-- excerpt -->            or   <!-- excerpt: why it cannot run -->

A block that is run is chosen by its language:

    sh, bash, shell   bash -e -o pipefail
    python            /usr/bin/python3
    lua               lua5.4
    c                 cc, then the program is run; a block without a main()
                      is the body of one (its #include lines stay on top)

A block of any other language, or none, must carry the marker.  Each block
runs alone (blocks share nothing) in a scratch directory that looks like the
top of the source tree (a copy of the sources, with `build` a link to the
build tree), with the build tree's bin/ first on PATH, its Python
package and Lua modules on their search paths (as if installed; for Lua 5.4
through LUA_PATH_5_4 and LUA_CPATH_5_4, for LuaJIT LUA_PATH and LUA_CPATH), its own $HOME and
$XDG_RUNTIME_DIR (so its labs are its own), and a time limit.  It passes
when it exits 0 within the limit and leaves no process behind (a lab server
started on demand has its grace period to leave).

    run-doc-blocks.py --source DIR --build DIR [--timeout S] [--list] [FILE...]
"""

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MARKER = re.compile(r"^\s*<!--\s*excerpt(?::[^>]*)?\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
RUNNERS = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python", "lua": "lua",
           "c": "c"}
LINGER = 5.0       # seconds a block's processes may take to leave after it


class Block:
    def __init__(self, path, line, lang, text, marked):
        self.path, self.line, self.lang, self.text, self.marked = (
            path, line, lang, text, marked)

    def where(self):
        return f"{self.path}:{self.line}"


def blocks_of(path, rel):
    """The fenced blocks of a Markdown file, with the marker each carries."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i, out = 0, []
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        start = i
        body = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence) and
                                      lines[i].strip().strip(fence[0]) == ""):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        if i == len(lines):
            raise SystemExit(f"{rel}:{start + 1}: a fence that is never closed")
        marked = start > 0 and MARKER.match(lines[start - 1]) is not None
        out.append(Block(rel, start + 1, lang, "\n".join(body) + "\n", marked))
        i += 1
    return out


def scratch_tree(root, source, build):
    """A copy of the source tree (a block may write to it, and a script that
    finds its own folder stays inside it), with `build` pointing at the
    build tree."""
    shutil.copytree(source, root, symlinks=True,
                    ignore=lambda d, names: [n for n in names if d == source and
                                             n in (".git", "build")])
    os.symlink(build, os.path.join(root, "build"))
    for d in ("home", "run"):
        os.mkdir(os.path.join(root, d), 0o700)


def c_program(text):
    if re.search(r"\bmain\s*\(", text):
        return text
    head = [l for l in text.split("\n") if l.startswith("#")]
    body = [l for l in text.split("\n") if not l.startswith("#")]
    return ("\n".join(head) + "\n#include <stdio.h>\n\nint main(void)\n{\n" +
            "\n".join(body) + "\n\treturn 0;\n}\n")


def tagged_processes(tag):
    """The pids of processes started by a block (they carry its tag)."""
    pids = []
    needle = f"EVTCHNX_DOCS_BLOCK={tag}".encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def run_block(b, n, args, work):
    kind = RUNNERS[b.lang]
    root = os.path.join(work, f"block{n}")
    scratch_tree(root, args.source, args.build)
    tag = f"{os.getpid()}-{n}"
    env = dict(os.environ)
    for var in ("EVTCHNX_TARGET", "EVTCHNX_LABD", "EVTCHNX_LAB_TOKEN"):
        env.pop(var, None)
    lua, luajit = (os.path.join(args.build, "lua", v) for v in ("5.4", "5.1"))
    env.update({
        "PATH": os.path.join(args.build, "bin") + ":" + env.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.path.join(args.build, "python"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LUA_PATH": f"{luajit}/?.lua;;", "LUA_CPATH": f"{luajit}/?.so;;",   # LuaJIT
        "LUA_PATH_5_4": f"{lua}/?.lua;;", "LUA_CPATH_5_4": f"{lua}/?.so;;",
        "HOME": os.path.join(root, "home"),
        "XDG_RUNTIME_DIR": os.path.join(root, "run"),
        "EVTCHNX_BUILD_DIR": args.build,
        "EVTCHNX_DOCS_BLOCK": tag,
    })
    if kind == "sh":
        script = os.path.join(root, "block.sh")
        cmd = ["bash", "-e", "-o", "pipefail", script]
    elif kind == "python":
        script = os.path.join(root, "block.py")
        cmd = ["/usr/bin/python3", script]
    elif kind == "lua":
        script = os.path.join(root, "block.lua")
        cmd = ["lua5.4", script]
    else:
        script = os.path.join(root, "block.c")
        exe = os.path.join(root, "block")
        lib = os.path.join(args.build, "lib")
        cmd = ["sh", "-c", 'cc -std=gnu11 -Wall -Werror -o "$1" "$2" -I"$3" -L"$4" '
               '-Wl,-rpath,"$4" -levtchnx && exec "$1"', "cc",
               exe, script, os.path.join(args.source, "include"), lib]
    with open(script, "w") as f:
        f.write(c_program(b.text) if kind == "c" else b.text)
    t = time.monotonic()
    # Output to a file, not a pipe: a process the block leaves behind would
    # hold a pipe open, and it is found below instead.
    log = open(os.path.join(root, "block.out"), "w+b")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    problem = None
    try:
        proc.wait(timeout=args.timeout)
        if proc.returncode != 0:
            problem = f"exited with status {proc.returncode}"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        problem = f"still running after {args.timeout:.0f} s: killed"
    log.seek(0)
    out = log.read()
    log.close()
    # Nothing may outlive the block (a lab server may take its grace period).
    time.sleep(0.2)  # a child forked at the very end has started by now
    deadline = time.monotonic() + LINGER
    left = tagged_processes(tag)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = tagged_processes(tag)
    if left:
        names = ", ".join(f"{p} ({cmdline(p)})" for p in left)
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        problem = (problem + "; " if problem else "") + f"left processes behind: {names}"
    return problem, out.decode(errors="replace"), time.monotonic() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--list", action="store_true", help="list the blocks, run nothing")
    ap.add_argument("files", nargs="*", help="default: README.md docs/*.md")
    args = ap.parse_args()
    args.source = os.path.abspath(args.source)
    args.build = os.path.abspath(args.build)
    files = args.files or (["README.md"] + sorted(
        os.path.relpath(p, args.source) for p in glob.glob(os.path.join(args.source,
                                                                       "docs", "*.md"))))
    blocks = []
    for rel in files:
        blocks += blocks_of(os.path.join(args.source, rel), rel)

    failed, ran, marked = [], 0, 0
    work = tempfile.mkdtemp(prefix="evtchnx-docs-")
    try:
        for n, b in enumerate(blocks):
            if b.marked:
                marked += 1
                print(f"excerpt  {b.where()} ({b.lang or 'no language'})")
                continue
            if b.lang not in RUNNERS:
                failed.append(b)
                print(f"FAIL     {b.where()}: a block in {b.lang or 'no language'} cannot be "
                      f"run: give it a language (sh, python, lua, c) or put "
                      f"<!-- excerpt --> on the line before its fence")
                continue
            if args.list:
                print(f"would run {b.where()} ({b.lang})")
                continue
            problem, out, secs = run_block(b, n, args, work)
            ran += 1
            if problem:
                failed.append(b)
                print(f"FAIL     {b.where()} ({b.lang}): {problem}; its output:")
                print("".join(f"    | {l}\n" for l in out.rstrip("\n").split("\n")))
            else:
                print(f"ok       {b.where()} ({b.lang}, {secs:.1f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{len(blocks)} blocks in {len(files)} files: {ran} run, {marked} excerpts, "
          f"{len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
