"""`nngrade check`: grade one notebook on its own, with hidden tests when the master is at hand."""

from __future__ import annotations

from pathlib import Path

from nngrade.grading import executors
from nngrade.grading.config import Settings
from nngrade.grading.results import (
    COULD_NOT_GRADE,
    HIDDEN_NOT_RUN,
    GradeReport,
    GraderFault,
    grader_fault_report,
)


def _pick(folder: Path, notebook: Path) -> Path | None:
    candidates = sorted(folder.glob("*.ipynb"))
    exact = folder / notebook.name
    if exact.is_file():
        return exact
    return candidates[0] if len(candidates) == 1 else None


def check(
    settings: Settings, assignment: str, notebook: Path, *, release_only: bool = False
) -> GradeReport:
    """Grade `notebook`; without a master copy (or with release_only) run visible tests only."""
    master = None if release_only else _pick(settings.source / assignment, notebook)
    hidden = master is not None
    if master is None:
        master = _pick(settings.release / assignment, notebook)
    if master is None:
        return GradeReport(
            assignment,
            None,
            COULD_NOT_GRADE,
            f"no master or release copy of {assignment!r} found under "
            f"{settings.source} or {settings.release}",
            [],
            None,
        )
    executor = settings.executor or executors.default_name()
    try:
        report = executors.get(executor)(
            notebook,
            master,
            assignment=assignment,
            limits=settings.limits,
            hidden=hidden,
            markers=settings.markers,
        )
    except GraderFault as fault:  # the grader's environment, not the notebook
        return grader_fault_report(assignment, None, fault)
    report.log.insert(0, _what_ran(settings, assignment, executor, hidden, release_only))
    if not hidden:
        why = (
            "--release-only: the master copy was ignored"
            if release_only
            else f"no master copy of {assignment} under {settings.source}"
        )
        report.notes.append(f"hidden tests not run because {why}")
    return report


def _what_ran(
    settings: Settings, assignment: str, executor: str, hidden: bool, release_only: bool
) -> str:
    """One truthful line: what was run and what was not."""
    where = (
        "student cells in a sandbox, tests in the grader"
        if executor == "isolated"
        else "student and test cells in one kernel, not sandboxed"
    )
    tests = "all tests, hidden ones included (master copy)" if hidden else "visible tests only"
    skipped = ""
    if not hidden:
        skipped = "; hidden tests NOT run" + (
            " (--release-only)" if release_only else " (no master copy at hand)"
        )
    return f"ran: {where} ({executor} executor); {tests}{skipped}"


def _indented(text: str, first: str, rest: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [first + lines[0], *(rest + line for line in lines[1:])]


def check_text(assignment: str, report: GradeReport) -> str:
    """`nngrade check`'s plain-text output: every message in full, and what was run."""
    lines = [
        f"{assignment}: {report.status} {report.score:g}/{report.max_score:g}"
        + (" (visible tests only: not the final grade)" if HIDDEN_NOT_RUN in report.notes else "")
    ]
    if report.reason:
        lines += _indented(report.reason, "  why: ", "       ")
    for test in report.tests:
        head = f"  {test.grade_id:<32} {test.score:>5g}/{test.max_score:<5g} {test.status}"
        if test.message:
            lines += _indented(test.message, head + ": ", " " * 6)
        else:
            lines.append(head)
    for note in report.notes:
        lines += _indented(note, "  note: ", " " * 8)
    for entry in report.log:
        if entry.startswith("ran: "):
            lines.append(f"  {entry}")
    return "\n".join(lines)
