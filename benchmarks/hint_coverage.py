"""Hint coverage per assignment: does a failing test's message name the cause of each known bug?

Runs every labelled bug of the mutation corpora (lab 1, lab 2, HW 4) through the graded test
cells it can affect, hidden tests included, with the messages worded exactly as
`nngrade check --json` shows them, and prints one table per assignment (bug, cause label, named?,
false hint?, message excerpt) and the coverage figures side by side. See docs/gradcheck.md,
"Hint coverage". Usage: `make bench-hints` or
`.venv/bin/python benchmarks/hint_coverage.py [lab1 lab2 hw4] [--quiet]`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from hint_coverage import ASSIGNMENTS, coverage, measure, table  # noqa: E402


def main(argv: list[str]) -> int:
    """Measure the assignments named in argv (all by default) and print tables and a summary."""
    quiet = "--quiet" in argv
    wanted = [a for a in argv if not a.startswith("-")] or list(ASSIGNMENTS)
    summary = []
    for assignment in wanted:
        start = time.perf_counter()
        results = measure(assignment)
        seconds = time.perf_counter() - start
        if not quiet:
            print(f"\n== {assignment} ({len(results)} bugs, {seconds:.0f} s)")
            print(table(results))
        hit, total, false = coverage(results)
        unlabelled = sum(r.label is None for r in results)
        summary.append((assignment, hit, total, false, unlabelled))
    print(
        f"\n{'assignment':11} {'named':>7} {'coverage':>9} {'false hints':>12} {'unlabelled':>11}"
    )
    for assignment, hit, total, false, unlabelled in summary:
        pct = 100.0 * hit / total if total else 100.0
        print(f"{assignment:11} {hit:>3}/{total:<3} {pct:>8.0f}% {false:>12} {unlabelled:>11}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
