"""The grader's peak memory and wall time for each hostile submission of the attack corpus.

Every attack of tests/adversarial/attacks.py (and the honest reference answer) is graded
singly, in a fresh Python process that builds the `adv` course, grades the notebook with the
isolated executor (what `nngrade check` and each autograde worker do) and reports its own peak
resident set size (`getrusage(RUSAGE_SELF).ru_maxrss`: the grader alone, not the sandbox it
starts) and wall time. The bound is 1 GB (BOUND_MB): the grader is the instructor's process,
and one student must never be able to make it that large.

Run: `make bench-grader-memory`, or
`.venv/bin/python benchmarks/grader_memory.py [--only NAME ...] [--cap-gb 6]`.
`--cap-gb` puts an address-space limit on each grading process (default 8 GB), so that a
version of the grader without the limits fails there instead of taking the machine's memory.
`--one NAME --json` grades one attack in this process and prints one JSON line (what the
other modes, and tests/nngrade/test_grader_memory.py, run in a subprocess).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOUND_MB = 1024
PATHS = [
    ROOT / "tests" / "adversarial",
    ROOT / "tests" / "adversarial" / "fixture",
    ROOT / "autograder" / "demo",
]
HONEST = "honest_reference"


def grade_one(name: str) -> dict:
    """Grade one attack (or the honest reference) here; figures of this process."""
    sys.path[:0] = [str(p) for p in PATHS]
    import nbformat
    from adv_master import ASSIGNMENT, master
    from attacks import BY_NAME
    from harness import LIMITS, make_course, new_token
    from nngrade.sandbox.isolated import grade_notebook
    from simulate import reference

    course = make_course()
    try:
        path = course.submission(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == HONEST:
            nb = reference(master())
        else:
            nb = BY_NAME[name].notebook(master(), **course.context(new_token(name)))
        nbformat.write(nb, str(path))
        started = time.monotonic()
        report = grade_notebook(
            path, course.master, assignment=ASSIGNMENT, limits=LIMITS, student=name
        )
        seconds = time.monotonic() - started
        copy = len(nbformat.writes(report.notebook)) if report.notebook is not None else 0
    finally:
        course.close()
    return {
        "name": name,
        "status": report.status,
        "score": report.score,
        "reasons": sorted({t.message[:160] for t in report.tests if t.status != "passed"}),
        "seconds": round(seconds, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "graded_copy_mb": round(copy / 2**20, 2),
    }


def measure(name: str, cap_gb: float = 8, timeout: float = 600, python: str = "") -> dict:
    """Grade `name` in a fresh process (capped at `cap_gb` of address space); its figures, or
    how it ended (killed, timed out) when it printed none."""

    def cap() -> None:
        limit = int(cap_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [python or sys.executable, __file__, "--one", name, "--json"]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, preexec_fn=cap
        )
    except subprocess.TimeoutExpired:
        return {"name": name, "status": f"no result after {timeout:.0f} s", "peak_mb": None}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode == 0 and lines:
        return json.loads(lines[-1])
    tail = (done.stderr.strip().splitlines() or ["?"])[-1][:120]
    return {
        "name": name,
        "status": f"grader failed (exit {done.returncode}): {tail}",
        "peak_mb": None,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one", help="grade this attack here and print its figures")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", nargs="*", help="these attacks only")
    parser.add_argument("--cap-gb", type=float, default=8)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(grade_one(args.one)))
        return 0
    sys.path[:0] = [str(p) for p in PATHS]
    from attacks import ATTACKS

    names = args.only or [HONEST] + [a.name for a in ATTACKS]
    print(
        f"grader peak RSS per submission, each graded alone in a fresh process (bound "
        f"{BOUND_MB} MB); load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores"
    )
    print(f"{'submission':24} {'peak MB':>8} {'wall s':>7} {'copy MB':>8}  status / score")
    over = []
    for name in names:
        row = measure(name, args.cap_gb, args.timeout)
        peak = row.get("peak_mb")
        if peak is None or peak > BOUND_MB:
            over.append(name)
        status = row["status"] + (f" {row['score']:g}/6" if "score" in row else "")
        print(
            f"{name:24} {peak if peak is not None else '-':>8} {row.get('seconds', '-'):>7} "
            f"{row.get('graded_copy_mb', '-'):>8}  {status}",
            flush=True,
        )
    print(f"over the {BOUND_MB} MB bound or failed: {', '.join(over) or 'none'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
