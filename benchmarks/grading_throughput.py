"""Grading throughput: `nngrade autograde --jobs 2` against plain sequential `nbgrader autograde`.

Both grade the same HW 4 submissions (the demo class minus the notebooks nbgrader cannot read,
topped up with copies to --students), each into a fresh course folder and a fresh gradebook, in
the same run. Prints wall times, the speed-up, and the per-submission overhead: wall time x
processes / submissions minus the mean time spent executing cells (from nbclient's timing
metadata in the graded copies). Run: `make bench-grading` (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder" / "demo"))

from make_class import write_class  # noqa: E402

ASSIGNMENT = "hw4_mlp"
UNREADABLE_FOR_NBGRADER = ("s09_", "s11_", "s12_", "s13_", "s14_", "s15_")  # nbgrader fails


def make_submissions(folder: Path, count: int) -> list[Path]:
    """`count` gradeable HW 4 submissions, one per student folder."""
    with tempfile.TemporaryDirectory() as scratch:
        pool = [
            p
            for p in write_class(Path(scratch))
            if not p.parent.name.startswith(UNREADABLE_FOR_NBGRADER)
        ]
        made = []
        for index in range(count):
            source = pool[index % len(pool)]
            target = folder / f"b{index:02d}_{source.parent.name[4:]}" / ASSIGNMENT / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            made.append(target)
    return made


def course(folder: Path, submissions: Path) -> Path:
    """A course folder: master copy, submitted/, nbgrader_config.py with its own gradebook."""
    (folder / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(
        ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        folder / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
    )
    shutil.copytree(submissions, folder / "submitted")
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(folder)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        "c.CourseDirectory.submitted_directory = 'submitted'\n"
        "c.CourseDirectory.autograded_directory = 'autograded'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{folder}/gradebook.db'\n"
        "c.NNGrade.run_directory = '.'\n"
    )
    return folder


def cell_seconds(notebook: Path) -> float:
    """Seconds spent executing cells, from nbclient's timing metadata (0 if absent)."""
    total = 0.0
    for cell in nbformat.read(str(notebook), as_version=4).cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            total += (
                datetime.fromisoformat(end.replace("Z", "+00:00"))
                - datetime.fromisoformat(start.replace("Z", "+00:00"))
            ).total_seconds()
    return total


def timed(command: list[str], cwd: Path, env: dict) -> float:
    """Run a command, fail loudly, return its wall time."""
    start = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds


def run_nbgrader(folder: Path, env: dict) -> float:
    """nbgrader generate_assignment (untimed), then one sequential `nbgrader autograde`."""
    nbgrader = [sys.executable, "-m", "nbgrader"]
    timed([*nbgrader, "generate_assignment", ASSIGNMENT, "--force"], folder, env)
    return timed([*nbgrader, "autograde", ASSIGNMENT, "--force"], folder, env)


def run_nngrade(folder: Path, env: dict, jobs: int, executor: str | None) -> float:
    """One `nngrade autograde --jobs N` on a fresh gradebook."""
    command = [
        sys.executable,
        "-m",
        "nngrade.cli",
        "autograde",
        ASSIGNMENT,
        "--jobs",
        str(jobs),
        "--course",
        str(folder),
        "--no-progress",
    ]
    if executor:
        command += ["--executor", executor]
    return timed(command, folder, env)


def main() -> int:
    """Grade the same class both ways and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--executor", default=None, help="nngrade executor (default: its own)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # alembic
    env.setdefault("NNHELPERS_MIRROR", str(ROOT.parent / "shared" / "data" / "mnist"))
    if not Path(env["NNHELPERS_MIRROR"]).is_dir():
        env.pop("NNHELPERS_MIRROR")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        scratch = Path(scratch)
        make_submissions(scratch / "submissions", args.students)
        nb_course = course(scratch / "nbgrader", scratch / "submissions")
        ng_course = course(scratch / "nngrade", scratch / "submissions")
        print(f"grading {args.students} HW 4 submissions twice (fresh gradebooks)...", flush=True)
        load_before = os.getloadavg()[0]
        nb_wall = run_nbgrader(nb_course, env)
        print(f"  nbgrader autograde (sequential, 1 process): {nb_wall:.1f} s", flush=True)
        ng_wall = run_nngrade(ng_course, env, args.jobs, args.executor)
        print(f"  nngrade autograde --jobs {args.jobs}: {ng_wall:.1f} s", flush=True)
        nb_cells = [cell_seconds(p) for p in (nb_course / "autograded").glob("*/*/*.ipynb")]
        ng_cells = [cell_seconds(p) for p in (ng_course / "autograded").glob("*/*/*.ipynb")]
        records = [
            json.loads(p.read_text()) for p in (ng_course / "autograded").glob("*/*/*.nngrade.json")
        ]
    n = args.students
    mean = lambda values: sum(values) / len(values) if values else 0.0  # noqa: E731
    figures = {
        "submissions": n,
        "jobs": args.jobs,
        "executor": records[0]["executor"] if records else args.executor,
        "nbgrader_wall_s": round(nb_wall, 1),
        "nngrade_wall_s": round(ng_wall, 1),
        "speedup": round(nb_wall / ng_wall, 2),
        "nbgrader_per_submission_s": round(nb_wall / n, 2),
        "nngrade_per_submission_s": round(ng_wall / n, 2),
        "nbgrader_cells_s": round(mean(nb_cells), 2),
        "nngrade_cells_s": round(mean(ng_cells), 2),
        "nbgrader_overhead_s": round(nb_wall / n - mean(nb_cells), 2),
        "nngrade_overhead_s": round(ng_wall * args.jobs / n - mean(ng_cells), 2)
        if any(ng_cells)
        else None,
        "nngrade_graded": sum(r["status"] == "graded" for r in records),
        "load_average_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "nngrade_executor_s": round(mean([r.get("seconds", 0.0) for r in records]), 2),
    }
    print()
    print(f"{'':34}{'nbgrader':>12}{'nngrade':>12}")
    print(f"{'processes':34}{1:>12}{args.jobs:>12}")
    print(f"{'wall time (s)':34}{nb_wall:>12.1f}{ng_wall:>12.1f}")
    print(f"{'wall time per submission (s)':34}{nb_wall / n:>12.2f}{ng_wall / n:>12.2f}")
    print(f"{'cell execution per submission (s)':34}{mean(nb_cells):>12.2f}{mean(ng_cells):>12.2f}")
    overhead = figures["nngrade_overhead_s"]
    print(
        f"{'overhead per submission (s)':34}{figures['nbgrader_overhead_s']:>12.2f}"
        f"{overhead if overhead is not None else 'n/a':>12}"
    )
    executor_s = figures["nngrade_executor_s"]
    print(f"{'nngrade executor time per sub. (s)':34}{'':>12}{executor_s:>12.2f}")
    print(
        f"speed-up: {figures['speedup']:.2f}x (target >= 1.8x on 2 cores); nngrade executor: "
        f"{figures['executor']}; graded {figures['nngrade_graded']}/{n}"
    )
    print(
        "machine load average (1 min) before/after: {} / {} (other jobs slow the parallel run "
        "more than the sequential one)".format(*figures["load_average_before_after"])
    )
    print(
        "overhead = wall x processes / submissions - cell execution time (kernel start-up, "
        "process start-up, notebook I/O, gradebook writes)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
