#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The evtchnx authors
"""Run the cross-language demo (examples/demo/demo.py ARGS...) and check its
report, not only its exit status: all three languages took part, events
flowed both ways between every pair and each was received, and the guest
that left turned its peers' ends of their channels back to unbound.

    demo_check.py DEMO.PY [ARGS...]
"""

import re
import subprocess
import sys

r = subprocess.run(["/usr/bin/python3", *sys.argv[1:]], stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, text=True, timeout=110)
out = r.stdout
print(out)
fails = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)


check(r.returncode == 0, f"the demo exits 0 (got {r.returncode})")
check(out.rstrip().endswith("demo OK"), "its last line is 'demo OK'")
for who in ("dom0 Py ", "dom1 C ", "dom2 Lua "):
    check(who in out, f"'{who.strip()}' speaks in the trace")
rows = dict(((int(a), int(b)), (int(s), int(n))) for a, b, s, n in re.findall(
    r"^  dom(\d) \w+ +dom(\d) \w+ +(\d+) +(\d+)$", out, re.M))
for pair in ((0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)):
    s, n = rows.get(pair, (0, -1))
    check(s >= 300 and s == n,
          f"dom{pair[0]} -> dom{pair[1]}: events sent ({s}) and all received ({n})")
check(re.search(r"dom0 Py .*status\(SELF, \d+\) -> unbound +dom0's end of the channel to dom2",
                out) is not None, "dom0 sees its end of the channel to dom2 unbound")
check(re.search(r"dom0 Py .*status\(1, \d+\) -> unbound", out) is not None,
      "dom0 sees dom1's end of the channel to dom2 unbound")
check(re.search(r"dom1 C .*status\(SELF, \d+\) -> unbound .*remote dom2", out) is not None,
      "dom1 (C) sees its own end of the channel to dom2 unbound")
check(re.search(r"dom0 port \d+ +unbound +offered to dom1", out) is not None,
      "after both guests left, dom0's ports are unbound, offered to them again")
check(re.search(r"dom1 port \d+ +interdomain +<-> dom2 port \d+", out) is not None,
      "while they ran, the statuses showed the dom1 <-> dom2 channel")
sys.exit(1 if fails else 0)
