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

`--pipeline` does the same for the render bombs of tests/adversarial/batch_attacks.py
(`RENDER_ATTACKS`: Markdown, LaTeX, Pygments, output-bundle and traceback bombs): each is put
in an honest graded copy, saved as autograde saves it (caps), and the class's batch commands
run on it: `feedback`, `report` and `export`. Peak RSS is the larger of this process and its
children (the page-rendering worker); the bound is the same 1 GB.
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
    import nngrade  # noqa: F401 - before nbformat: skips jsonschema's IRI grammar, as nngrade does

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


def pipeline_one(name: str) -> dict:
    """Save one render bomb as a graded copy and run feedback, report and export on it here."""
    sys.path[:0] = [str(p) for p in PATHS]
    from adv_master import ASSIGNMENT, master
    from batch_attacks import RECORD_ATTACKS, RENDER_ATTACKS
    from harness import make_course
    from nngrade.commands import autograde
    from nngrade.commands.export import export_csv
    from nngrade.commands.feedback import page_text, write_feedback
    from nngrade.commands.report import write_report
    from nngrade.grading import config, records
    from nngrade.grading.results import GradeReport, TestOutcome
    from simulate import reference

    attack = {a.name: a for a in RENDER_ATTACKS + RECORD_ATTACKS}[name]
    course = make_course(gradebook=False)
    try:
        settings = config.load(course.config_dir)
        nb = reference(master())
        attack.edit(nb)
        tests = [TestOutcome("test_double", 2.0, 2.0, "passed", "", True)]
        report = GradeReport(ASSIGNMENT, name, "graded", "", tests, nb)
        started = time.monotonic()
        autograde._bound(report)
        records.save(
            settings.autograded, name, ASSIGNMENT, ASSIGNMENT, "k", report, "x",
            master=course.master,
        )  # fmt: skip
        del nb, report
        copy = records.paths(settings.autograded, name, ASSIGNMENT, ASSIGNMENT)[0]
        saved = time.monotonic()
        (page,) = write_feedback(settings, ASSIGNMENT)
        rendered = time.monotonic()
        write_report(settings, ASSIGNMENT)
        export_csv(settings, ASSIGNMENT, course.root / "grades.csv")
        done = time.monotonic()
        text = page.read_text(encoding="utf-8")
        shown = "not shown on this page" not in text and "def double" in page_text(text)
        figures = {
            "copy_mb": round(copy.stat().st_size / 2**20, 2),
            "page_mb": round(len(text) / 2**20, 2),
            "notebook_shown": shown,
            "save_s": round(saved - started, 1),
            "feedback_s": round(rendered - saved, 1),
            "report_export_s": round(done - rendered, 1),
        }
    finally:
        course.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"name": name, "status": "done", "peak_mb": round(max(own, children), 1), **figures}


def measure(name: str, cap_gb: float = 8, timeout: float = 600, python: str = "") -> dict:
    """Grade `name` in a fresh process (capped at `cap_gb` of address space); its figures, or
    how it ended (killed, timed out) when it printed none."""

    def cap() -> None:
        limit = int(cap_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    mode = "--one-pipeline" if name in render_names() else "--one"
    command = [python or sys.executable, __file__, mode, name, "--json"]
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


def render_names() -> list[str]:
    """The render bombs (`--pipeline`), by name."""
    sys.path[:0] = [str(p) for p in PATHS]
    from batch_attacks import RENDER_ATTACKS

    return [a.name for a in RENDER_ATTACKS]


def pipeline_table(names: list[str], cap_gb: float, timeout: float) -> list[str]:
    """Print each render bomb's figures; the names over the bound or failed."""
    print(
        f"feedback + report + export of one graded copy holding each render bomb, in a fresh "
        f"process (bound {BOUND_MB} MB, this process or its render worker); load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'render bomb':26} {'peak MB':>8} {'save s':>7} {'page s':>7} {'rep+csv s':>9} "
        f"{'copy MB':>8} {'page MB':>8}  notebook shown"
    )
    over = []
    for name in names:
        row = measure(name, cap_gb, timeout)
        peak = row.get("peak_mb")
        if peak is None or peak > BOUND_MB:
            over.append(name)
        if row["status"] != "done":
            print(f"{name:26} {'-':>8}  {row['status']}", flush=True)
            continue
        print(
            f"{name:26} {peak:>8} {row['save_s']:>7} {row['feedback_s']:>7} "
            f"{row['report_export_s']:>9} {row['copy_mb']:>8} {row['page_mb']:>8}  "
            f"{'yes' if row['notebook_shown'] else 'no (page says why)'}",
            flush=True,
        )
    return over


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one", help="grade this attack here and print its figures")
    parser.add_argument("--one-pipeline", help="run the batch commands on this render bomb here")
    parser.add_argument("--pipeline", action="store_true", help="the render bombs instead")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", nargs="*", help="these attacks only")
    parser.add_argument("--cap-gb", type=float, default=8)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(grade_one(args.one)))
        return 0
    if args.one_pipeline:
        print(json.dumps(pipeline_one(args.one_pipeline)))
        return 0
    if args.pipeline:
        over = pipeline_table(args.only or render_names(), args.cap_gb, args.timeout)
        print(f"over the {BOUND_MB} MB bound or failed: {', '.join(over) or 'none'}")
        return 1 if over else 0
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
