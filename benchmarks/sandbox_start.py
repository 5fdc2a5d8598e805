"""Sandbox start-up and call cost: the bubblewrap sandbox beside the unisolated (plain) one.

Prints, for each mode, the median and range over N runs of: start (bwrap, Python, numpy,
IPython shell, limits), one small cell, one round trip (`ping`, mean of 300) and close (kill,
sweep, scratch removal); plus the machine load, since the machine is shared.
Run: `.venv/bin/python benchmarks/sandbox_start.py [N]`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from nngrade.grading.results import Limits
from nngrade.sandbox import launcher

CALLS = 300


def measure(runs: int) -> dict[str, list[float]]:
    """Seconds per phase over `runs` sandboxes in the current mode."""
    phases: dict[str, list[float]] = {"start": [], "cell": [], "call": [], "close": []}
    limits = Limits(memory_mb=1024, allow_degraded=True)
    for _ in range(runs):
        sandbox = launcher.Sandbox(limits)
        t0 = time.perf_counter()
        sandbox.start()
        t1 = time.perf_counter()
        sandbox.request({"op": "run_cell", "code": "x = sum(range(1000))"}, timeout=30)
        t2 = time.perf_counter()
        for _ in range(CALLS):  # what a proxy call costs (a round trip to the kernel)
            sandbox.request({"op": "ping"}, timeout=30)
        t3 = time.perf_counter()
        sandbox.close()
        t4 = time.perf_counter()
        times = (t1 - t0, t2 - t1, (t3 - t2) / CALLS, t4 - t3)
        for name, seconds in zip(phases, times, strict=True):
            phases[name].append(seconds)
    return phases


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = []
    for forced in ("", "plain"):
        os.environ["NNGRADE_SANDBOX"] = forced
        launcher.detect.cache_clear()
        mode = launcher.detect(False).describe()
        rows.append((mode, measure(runs)))
    print(f"load average {os.getloadavg()[0]:.1f}, {runs} runs each (median [min-max] seconds)")
    for mode, phases in rows:
        cells = [
            f"{name} {statistics.median(v):.3f} [{min(v):.3f}-{max(v):.3f}]"
            for name, v in phases.items()
        ]
        print(f"{mode[:60]:60s}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
