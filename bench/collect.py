#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""collect - the RESULT lines of several benchmark runs as one table.

    python3 bench/collect.py RUN1.log RUN2.log ...

Each log is the output of a run (`cmake --build BUILD --target bench`, or
one program).  For every figure, in the order of its first appearance, it
prints a Markdown row: the min / median / max over the runs of the run's
median (runs where the figure had no valid round are left out and
counted), the valid rounds of each run, and the verdicts.
"""

import re
import statistics
import sys

LINE = re.compile(r"^RESULT (\S+) median=(\S+) min=\S+ max=\S+ valid=(\d+)/(\d+) "
                  r"target(\S+) verdict=(\S+)$")


def main(paths):
    order, runs = [], {}
    for path in paths:
        seen = set()  # the report repeats each RESULT line: once a run
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = LINE.match(line.strip())
                if not m or m.group(1) in seen:
                    continue
                name = m.group(1)
                seen.add(name)
                if name not in runs:
                    order.append(name)
                    runs[name] = []
                runs[name].append(m.groups()[1:])
    print("| figure | target | min | median | max | valid rounds per run | verdicts |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in order:
        rows = runs[name]
        values = [float(r[0]) for r in rows if r[1] != "0"]
        target = rows[0][3].lstrip("=")
        target = "" if target == "none" else target.replace("<=", "≤ ").replace(">=", "≥ ")
        valid = ", ".join(f"{r[1]}/{r[2]}" for r in rows)
        if len(set(valid.split(", "))) == 1:
            valid = f"{rows[0][1]}/{rows[0][2]} in every run"
        verdicts = {}
        for r in rows:
            verdicts[r[4]] = verdicts.get(r[4], 0) + 1
        vtext = ", ".join(f"{n} × {v}" for v, n in sorted(verdicts.items())
                          if v != "REPORT")
        if values:
            cells = [min(values), statistics.median(values), max(values)]
            nums = " | ".join(f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"
                              for v in cells)
        else:
            nums = "n/a | n/a | n/a"
        missing = len(rows) - len(values)
        if missing:
            vtext += f"{'; ' if vtext else ''}{missing} run(s) without a valid round"
        print(f"| `{name}` | {target} | {nums} | {valid} | {vtext} |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    sys.exit(main(sys.argv[1:]))
