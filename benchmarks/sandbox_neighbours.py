"""CPU neighbours: an honest sandbox's work alone and beside 30 `setsid()` busy loops.

Prints, with the system-call filter (`nngrade/sandbox/seccomp.py`, which makes `setsid` a
no-op) and without it, the wall time of a fixed piece of honest work in one sandbox: alone,
then while another sandbox runs 30 busy loops that each called `setsid()` (a scheduler
autogroup each, where the kernel autogroups sessions). Meant for the unprivileged mode without
a cgroup, where nothing else caps the attacker (as root, the CPU cgroup does): run as a plain
user, e.g. `setpriv --reuid=nngrade-ci --regid=nngrade-ci --clear-groups .venv/bin/python
benchmarks/sandbox_neighbours.py` (the venv must be readable by that user).
"""

from __future__ import annotations

import os
import time

from nngrade.grading.results import Limits
from nngrade.sandbox import launcher, seccomp

LIMITS = Limits(cell_timeout=60, total_timeout=600, memory_mb=512, max_processes=64)
WORK = (
    "import time\nstart = time.monotonic()\ntotal = 0\n"
    "for i in range(15_000_000):\n    total += i % 7\nprint(time.monotonic() - start)"
)
ATTACK = """import os, sys
for _ in range(30):
    if os.fork() == 0:
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", "while True: pass"])
"""


def work(sandbox: launcher.Sandbox) -> float:
    reply, _ = sandbox.request({"op": "run_cell", "code": WORK}, timeout=300)
    return float(reply["stdout"])


def measure() -> tuple[float, float, str]:
    """Seconds of the honest work alone and beside the attacker; the attacker's sandbox."""
    with launcher.Sandbox(LIMITS) as honest:
        alone = work(honest)
        with launcher.Sandbox(LIMITS) as attacker:
            attacker.request({"op": "run_cell", "code": ATTACK}, timeout=60)
            time.sleep(1)
            beside = work(honest)
            described = attacker.describe()
    return alone, beside, described


def main() -> None:
    real = seccomp.program
    rows = []
    for label, program in (("without the filter", lambda: None), ("with the filter", real)):
        seccomp.program = program
        alone, beside, described = measure()
        rows.append((label, alone, beside, described))
    seccomp.program = real
    print(f"uid {os.getuid()}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':20} {'alone':>8} {'beside 30 setsid loops':>24}  sandbox")
    for label, alone, beside, described in rows:
        print(f"{label:20} {alone:7.1f}s {beside:23.1f}s  {described}")


if __name__ == "__main__":
    main()
