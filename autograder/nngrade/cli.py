"""Command line of `nngrade`: release, collect, autograde, feedback, export, report, check,
workspace."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nngrade.grading.config import Settings, load
from nngrade.grading.results import GRADED, GRADER_FAULT


def _settings(args: argparse.Namespace) -> Settings:
    return load(
        args.course,
        db_url=args.db_url,
        course_id=args.course_id,
        jobs=getattr(args, "jobs", None),
        executor=args.executor,
        cell_timeout=args.cell_timeout,
        total_timeout=args.total_timeout,
        memory_mb=args.memory_mb,
        allow_degraded=args.allow_degraded,
    )


def cmd_release(args: argparse.Namespace) -> int:
    """Generate release/ from source/ (every assignment unless named), check leaks, publish it
    in nbgrader's exchange."""
    from nngrade.commands.release import available_assignments, generate_release
    from nngrade.grading.exchange import release_assignments

    settings = _settings(args)
    names = args.assignments or available_assignments(settings.root)
    if not names:
        print(f"nngrade release: no assignment folders in {settings.source}", file=sys.stderr)
        return 1
    written = generate_release(
        names,
        settings.release,
        root=settings.root,
        config_dir=settings.config_dir,
        markers=settings.markers,
        release_files=settings.release_files,
    )
    for path in written:
        shown = path.relative_to(settings.root) if path.is_relative_to(settings.root) else path
        print(f"released {shown}")
    if args.no_exchange:
        return 0
    for folder in release_assignments(settings, names):
        print(f"released to the exchange: {folder}")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """Import a class's submissions into submitted/<student>/<assignment>/."""
    from nngrade.commands.collect import collect

    settings = _settings(args)
    source = Path(args.source) if args.source else None
    result = collect(source, args.assignment, settings, overwrite=args.overwrite)
    print(result.describe())
    if result.imported or result.unchanged:
        return 0
    where = args.source or "nbgrader's exchange"
    print(
        f"nngrade collect: nothing was imported for {args.assignment!r} from {where} "
        f"({len(result.problems)} problem(s) above): check the source and the assignment name",
        file=sys.stderr,
    )
    return 1


def cmd_autograde(args: argparse.Namespace) -> int:
    """Grade every submitted student in parallel, resumably."""
    from nngrade.commands.autograde import run
    from nngrade.grading.cluster import ClusterError

    settings = _settings(args)
    try:
        summary = run(
            settings,
            args.assignment,
            jobs=args.jobs,
            force=args.force,
            students=args.student or None,
            progress=not args.no_progress,
            scheduler=args.scheduler,
        )
    except ClusterError as err:
        print(f"nngrade autograde: {err}", file=sys.stderr)
        return 2
    print(
        f"{args.assignment}: graded {len(summary.graded)}, could not grade "
        f"{len(summary.could_not_grade)}, skipped {len(summary.skipped)} unchanged"
        + (f", grader faults {len(summary.grader_faults)}" if summary.grader_faults else "")
    )
    for entry in summary.could_not_grade:  # student ids: one line each, controls escaped
        print(f"  could not grade: {escaped(entry)}")
    for who, before, after in summary.changed:
        print(f"  score changed: {escaped(who)}: {before} -> {after}")
    if summary.interrupted:
        print("interrupted: run the same command again to continue", file=sys.stderr)
        return 130
    if summary.grader_faults:
        for line in summary.fault_lines():
            print(f"nngrade autograde: {escaped(line)}", file=sys.stderr)
        if summary.not_attempted:
            print(
                f"nngrade autograde: stopped after {len(summary.grader_faults)} grader faults "
                f"in a row; {len(summary.not_attempted)} submissions not attempted. Nothing "
                "was recorded as a grade: run the same command again once it is fixed",
                file=sys.stderr,
            )
        return 3
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    """One HTML page per student, hidden tests redacted."""
    from nngrade.commands.feedback import write_feedback

    settings = _settings(args)
    pages = write_feedback(settings, args.assignment)
    for page in pages:
        print(escaped(str(page)))
    print(f"{len(pages)} feedback pages in {settings.feedback}")
    if args.no_exchange:
        return 0
    from nngrade.grading.exchange import release_feedback

    students = [page.parent.parent.name for page in pages]
    released = release_feedback(settings, args.assignment, students)
    if released:
        print(
            f"{len(released)} of them released to the exchange (students who submitted there "
            "fetch them in the Assignment List)"
        )
    return 0


def cmd_workspace(args: argparse.Namespace) -> int:
    """Prepare the student's JupyterLab folder (used by `make lab`); prints its path."""
    from nngrade.grading.exchange import WORKSPACE, prepare_workspace

    settings = _settings(args)
    print(prepare_workspace(settings, args.folder or settings.root / WORKSPACE))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Grades to CSV (one row per student)."""
    from nngrade.commands.export import export_csv

    settings = _settings(args)
    from nngrade.grading.final import AWAITING, class_grades

    rows = export_csv(settings, args.assignment, Path(args.csv), canvas=args.canvas)
    print(f"wrote {rows} rows to {args.csv}")
    waiting = sorted(
        s for s, g in class_grades(settings, args.assignment).items() if g.status == AWAITING
    )
    if waiting:
        print(
            f"{len(waiting)} students awaiting manual grading (total left empty until their "
            f"written answers are graded in formgrader): {', '.join(waiting)}"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The instructor's class report (HTML)."""
    from nngrade.commands.report import write_report

    settings = _settings(args)
    path = write_report(settings, args.assignment, Path(args.output) if args.output else None)
    print(path)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Grade one notebook on its own and print the outcome (JSON with --json)."""
    from nngrade.commands.check import check, check_text

    settings = _settings(args)
    report = check(settings, args.assignment, Path(args.notebook), release_only=args.release_only)
    data = report.to_json()
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print(check_text(args.assignment, report))
    if report.status == GRADER_FAULT:
        print(f"nngrade check: grader fault: {report.reason}", file=sys.stderr)
        return 3
    return 0 if report.status == GRADED else 1


def parser() -> argparse.ArgumentParser:
    """The argument parser (shared flags on every command)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--course",
        type=Path,
        default=None,
        help="folder holding nbgrader_config.py (default: the repository's "
        "autograder/, or $NNGRADE_COURSE)",
    )
    common.add_argument("--db-url", default=None, help="gradebook URL (default: SQLite)")
    common.add_argument("--course-id", default=None)
    common.add_argument(
        "--executor",
        default=None,
        choices=["inkernel", "isolated"],
        help="grading executor (default: isolated when available)",
    )
    common.add_argument("--cell-timeout", type=float, default=None, help="seconds per cell")
    common.add_argument("--total-timeout", type=float, default=None, help="seconds per notebook")
    common.add_argument("--memory-mb", type=int, default=None, help="memory limit per kernel")
    common.add_argument(
        "--allow-degraded",
        action="store_true",
        default=None,
        help="grade even where the sandbox cannot isolate student code (no bubblewrap, no "
        "user namespaces): only for trusted notebooks",
    )

    top = argparse.ArgumentParser(prog="nngrade", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "release", parents=[common], help="generate release/ from source/, publish it"
    )
    p.add_argument("assignments", nargs="*")
    p.add_argument(
        "--no-exchange", action="store_true", help="only write release/, not nbgrader's exchange"
    )
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("collect", parents=[common], help="import submissions")
    p.add_argument(
        "source",
        nargs="?",
        help="folder (one sub-folder per student) or Canvas-style zip/folder; "
        "without it, the latest submissions in nbgrader's exchange",
    )
    p.add_argument("assignment")
    p.add_argument("--overwrite", action="store_true", help="replace existing submissions")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("autograde", parents=[common], help="grade all submissions")
    p.add_argument("assignment")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel workers")
    p.add_argument("--force", action="store_true", help="re-grade unchanged submissions too")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--scheduler",
        default=None,
        help="grade on the Dask cluster of this scheduler (tcp://HOST:8786; "
        "config: c.NNGrade.scheduler)",
    )
    p.set_defaults(func=cmd_autograde)

    p = sub.add_parser("feedback", parents=[common], help="HTML feedback per student")
    p.add_argument("assignment")
    p.add_argument(
        "--no-exchange", action="store_true", help="do not hand feedback back via the exchange"
    )
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", parents=[common], help="grades as CSV")
    p.add_argument("assignment")
    p.add_argument("--csv", required=True)
    p.add_argument("--canvas", action="store_true", help="Canvas gradebook import layout")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", parents=[common], help="class report (HTML)")
    p.add_argument("assignment")
    p.add_argument("--output", default=None)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("check", parents=[common], help="grade one notebook")
    p.add_argument("assignment")
    p.add_argument("notebook")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--release-only", action="store_true", help="ignore the master copy: visible tests only"
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "workspace", parents=[common], help="the student's JupyterLab folder (make lab)"
    )
    p.add_argument("--folder", type=Path, default=None, help="default: mywork/ in the course")
    p.set_defaults(func=cmd_workspace)
    return top


def escaped(text: str) -> str:
    """Student-derived text for one printed line (ids in paths, reasons): see safe_text."""
    from nngrade.grading.safe_text import escaped as escape

    return escape(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `nngrade` console script."""
    from nngrade.commands.release import ReleaseError
    from nngrade.grading.exchange import ExchangeProblem
    from nngrade.grading.final import StaleGrades
    from nngrade.grading.safe_text import clean_std_streams

    args = parser().parse_args(argv)
    saved = clean_std_streams()  # student text never drives the instructor's terminal
    try:
        return args.func(args)
    except FileNotFoundError as err:
        print(f"nngrade {args.command}: {err}", file=sys.stderr)
        return 2
    except (StaleGrades, ReleaseError, ExchangeProblem) as err:
        # outputs would disagree with the master (regrade first), nbgrader refused a release,
        # a release would leak, the exchange refused: each message names the problem
        print(f"nngrade {args.command}: {err}", file=sys.stderr)
        return 1
    finally:
        sys.stdout, sys.stderr = saved


if __name__ == "__main__":
    sys.exit(main())
