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


def nngrade(*args: str) -> float:
    """Run one nngrade command as an instructor would; returns its wall time."""
    command = [sys.executable, "-m", "nngrade.cli", *args]
    print(f"\n$ nngrade {' '.join(args)}", flush=True)
    start = time.monotonic()
    done = subprocess.run(command, check=False)
    if done.returncode not in (0, 1) or (done.returncode and args[0] != "collect"):
        sys.exit(f"demo: `nngrade {' '.join(args)}` failed (exit {done.returncode})")
    return time.monotonic() - start


def summary_table(settings, times: dict[str, float]) -> str:
    """One row per student, then the paths written."""
    import json

    rows = [f"{'student':<28} {'status':<16} {'score':>9}  first problem"]
    for record_path in sorted(settings.autograded.glob(f"*/{ASSIGNMENT}/*.nngrade.json")):
        record = json.loads(record_path.read_text())
        problems = [
            f"{t['grade_id']}: {t['message'].splitlines()[0] if t['message'] else ''}"
            for t in record["tests"]
            if t["status"] != "passed"
        ]
        first = record["reason"] or (problems[0] if problems else "")
        score = f"{record['score']:g}/{record['max_score']:g}" if record["tests"] else "-"
        rows.append(f"{record['student']:<28} {record['status']:<16} {score:>9}  {first[:70]}")
    info = class_summary(settings, ASSIGNMENT)
    exports = settings.reports.parent / "exports"
    rows += [
        "",
        f"{info['students']} students: {info['graded']} graded, "
        f"{len(info['could_not_grade'])} could not be graded (reasons in the report)",
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
