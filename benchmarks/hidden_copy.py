"""What running hidden calls in a throw-away copy of the kernel costs.

1. One copy (`hidden_begin` + `hidden_end`, nothing run in it) for a small kernel and for one
   holding ~400 MB of arrays (fork copies page tables, not pages): median [min-max] of N.
2. Grading the HW 4 reference with the isolated executor, copies on against copies off (the
   kernel's refusal path, i.e. the withholding rule of before), alternating, N runs each.

Run: `NNHELPERS_MIRROR=... .venv/bin/python benchmarks/hidden_copy.py [N]` (namespaces needed).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import nbformat
from nngrade.grading.results import Limits
from nngrade.sandbox import launcher
from nngrade.sandbox.isolated import grade_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "autograder" / "demo")]
from simulate import reference  # noqa: E402

MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"


def summary(values: list[float], unit: float = 1.0, digits: int = 1) -> str:
    scaled = [v * unit for v in values]
    return (
        f"{statistics.median(scaled):.{digits}f} "
        f"[{min(scaled):.{digits}f}-{max(scaled):.{digits}f}]"
    )


def copy_cost(runs: int, setup: str) -> list[float]:
    with launcher.Sandbox(Limits(memory_mb=2048)) as sandbox:
        reply, _ = sandbox.request({"op": "run_cell", "code": setup}, timeout=120)
        assert reply["ok"], reply
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            isolated, why = sandbox.hidden_begin(30)
            assert isolated, why
            sandbox.hidden_end(30)
            times.append(time.perf_counter() - start)
        return times


def grade_hw4(copies: bool, folder: Path) -> tuple[float, int, float]:
    path = folder / MASTER.name
    if not path.exists():
        nbformat.write(reference(nbformat.read(str(MASTER), as_version=4)), str(path))
    limits = Limits(cell_timeout=120, total_timeout=600)
    refuse = mock.patch.object(
        launcher.Sandbox, "hidden_begin", lambda self, timeout: (False, "copies off")
    )
    start = time.perf_counter()
    if copies:
        report = grade_notebook(path, MASTER, assignment="hw4_mlp", limits=limits)
    else:
        with refuse:
            report = grade_notebook(path, MASTER, assignment="hw4_mlp", limits=limits)
    seconds = time.perf_counter() - start
    isolated = sum(t.isolated for t in report.tests)
    return seconds, isolated, report.score


def main(runs: int) -> None:
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, {runs} runs each")
    small = copy_cost(runs, "import numpy as np\nx = np.ones(10)")
    large = copy_cost(runs, "import numpy as np\nx = np.ones((50_000_000,))")
    print("| kernel | one copy (begin + end), ms |")
    print("|---|---|")
    print(f"| numpy imported | {summary(small, 1000)} |")
    print(f"| + 400 MB of arrays | {summary(large, 1000)} |")
    if not MASTER.is_file():
        return
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[bool, list[float]] = {True: [], False: []}
        copies = score = 0.0
        for _ in range(runs):
            for on in (False, True):
                seconds, isolated, score = grade_hw4(on, Path(tmp))
                results[on].append(seconds)
                copies = max(copies, isolated)
        print(f"\nHW 4 reference, isolated executor ({int(copies)} test cells with hidden calls,"
              f" score {score}):")  # fmt: skip
        print("| hidden calls | grading time, s |")
        print("|---|---|")
        print(f"| in the kernel, outputs withheld (before) | {summary(results[False], 1, 2)} |")
        print(f"| in a throw-away copy (now) | {summary(results[True], 1, 2)} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
