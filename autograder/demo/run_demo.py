"""`make demo`: release, collect the demo class, autograde in parallel, feedback, export, report.

Safe to re-run: collect skips identical submissions, autograde skips unchanged graded ones,
everything else is rewritten. Prints a summary table and the paths of what it wrote.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from nngrade.commands.report import class_summary
from nngrade.grading.config import load

HERE = Path(__file__).resolve().parent
ASSIGNMENT = "hw4_mlp"
REFERENCE = "s01_reference"  # the master's own answers: anything but full marks is a grader bug


def nngrade(*args: str) -> float:
    """Run one nngrade command as an instructor would; returns its wall time."""
    command = [sys.executable, "-m", "nngrade.cli", *args]
    print(f"\n$ nngrade {' '.join(args)}", flush=True)
    start = time.monotonic()
    done = subprocess.run(command, check=False)
    if done.returncode not in (0, 1) or (done.returncode and args[0] != "collect"):
        sys.exit(
            f"demo: `nngrade {' '.join(args)}` failed (exit {done.returncode}); "
            "the lines above say why and how to fix it"
        )
    return time.monotonic() - start


def one_line(text: str, width: int) -> str:
    """Text on one line of at most `width` characters (tables break on newlines)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def reference_problem(autograded: Path, student: str = REFERENCE) -> str:
    """Why the reference student did not get full marks ("" when they did)."""
    import json

    found = sorted((autograded / student / ASSIGNMENT).glob("*.nngrade.json"))
    if not found:
        return f"{student} has no grading record"
    for path in found:
        record = json.loads(path.read_text())
        if record["status"] != "graded":
            return f"{student}: {record['status']}: {one_line(record['reason'], 300)}"
        if record["score"] != record["max_score"] or not record["tests"]:
            lost = [
                f"{t['grade_id']} ({one_line(t['message'], 120)})"
                for t in record["tests"]
                if t["score"] < t["max_score"]
            ]
            return f"{student} got {record['score']:g}/{record['max_score']:g}; lost points on " + (
                ", ".join(lost) or "no test"
            )
    return ""


def summary_table(settings, times: dict[str, float]) -> str:
    """One row per student, then the paths written."""
    import json

    rows = [f"{'student':<28} {'status':<16} {'score':>9}  first problem"]
    for record_path in sorted(settings.autograded.glob(f"*/{ASSIGNMENT}/*.nngrade.json")):
        record = json.loads(record_path.read_text())
        problems = [
            f"{t['grade_id']}: {t['message']}" for t in record["tests"] if t["status"] != "passed"
        ]
        first = record["reason"] or (problems[0] if problems else "")
        score = f"{record['score']:g}/{record['max_score']:g}" if record["tests"] else "-"
        rows.append(
            f"{record['student']:<28} {record['status']:<16} {score:>9}  {one_line(first, 70)}"
        )
    info = class_summary(settings, ASSIGNMENT)
    exports = settings.reports.parent / "exports"
    rows += [
        "",
        f"{info['students']} students: {info['graded']} graded, "
        f"{len(info.get('awaiting', []))} awaiting manual grading of written answers, "
        f"{len(info['could_not_grade'])} could not be graded (reasons in the report), "
        f"{len(info.get('grader_faults', {}))} grader faults",
        "wall times: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()),
        "",
        f"release notebooks : {settings.release}/<assignment>/",
        f"submissions       : {settings.submitted}/<student>/{ASSIGNMENT}/",
        f"graded copies     : {settings.autograded}/<student>/{ASSIGNMENT}/",
        f"feedback pages    : {settings.feedback}/<student>/{ASSIGNMENT}/{ASSIGNMENT}.html",
        f"grades (CSV)      : {exports / f'{ASSIGNMENT}_grades.csv'}",
        f"grades (Canvas)   : {exports / f'{ASSIGNMENT}_canvas.csv'}",
        f"class report      : {settings.reports / f'{ASSIGNMENT}.html'}",
        f"gradebook         : {settings.db_url}",
    ]
    return "\n".join(rows)


def main() -> int:
    """Run the whole instructor workflow on the demo class."""
    settings = load()
    exports = settings.reports.parent / "exports"
    times = {}
    times["release"] = nngrade("release")
    times["collect"] = nngrade(
        "collect", str(HERE / "hw4_mlp_class.zip"), ASSIGNMENT, "--overwrite"
    )
    times["autograde"] = nngrade("autograde", ASSIGNMENT)
    times["feedback"] = nngrade("feedback", ASSIGNMENT)
    nngrade("export", ASSIGNMENT, "--csv", str(exports / f"{ASSIGNMENT}_grades.csv"))
    nngrade("export", ASSIGNMENT, "--csv", str(exports / f"{ASSIGNMENT}_canvas.csv"), "--canvas")
    times["report"] = nngrade("report", ASSIGNMENT)
    print("\n" + summary_table(settings, times))
    problem = reference_problem(settings.autograded)
    if problem:
        print(
            f"\ndemo FAILED: the reference student must get full marks, but {problem}. "
            "Fix: the grader or its environment is broken (run `nngrade check hw4_mlp "
            f"{settings.submitted / REFERENCE / ASSIGNMENT / (ASSIGNMENT + '.ipynb')}` to see "
            "why), or the master and the demo class disagree (regenerate the class: "
            "`python autograder/demo/make_class.py`)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
