"""`nngrade check`: grade one notebook on its own, with hidden tests when the master is at hand."""

from __future__ import annotations

from pathlib import Path

from nngrade.grading import executors
from nngrade.grading.config import Settings
from nngrade.grading.results import (
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
            "could-not-grade",
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
    if not hidden and HIDDEN_NOT_RUN not in report.notes:
        report.notes.append(HIDDEN_NOT_RUN)
    return report
