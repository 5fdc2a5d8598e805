"""The nbgrader gradebook (nbgrader.api.Gradebook): assignment structure and scores.

Only the parent process writes here, one result at a time (SQLite allows one writer).
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from nngrade.grading.prepare import is_locked, is_test_cell, nbgrader_meta
from nngrade.grading.results import GradeReport

REVISION = re.compile(r"^(down_)?revision\s*=\s*['\"]?([0-9a-f]+|None)['\"]?", re.MULTILINE)


def alembic_head() -> str:
    """nbgrader's current schema revision, read from its migration files.

    nbgrader finds it by running the `alembic` script (a second Python start-up, ~2-4 s here,
    and missing from PATH when the venv is not activated); reading the files is instant.
    """
    from nbgrader import dbutil

    revisions, parents = set(), set()
    for script in Path(dbutil.ALEMBIC_DIR, "versions").glob("*.py"):
        for down, value in REVISION.findall(script.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"cannot tell nbgrader's schema head from {sorted(heads)}")
    return heads.pop()


def _use_fast_alembic_head() -> None:
    import nbgrader.api

    try:
        head = alembic_head()
    except (OSError, RuntimeError):
        return  # keep nbgrader's own lookup
    nbgrader.api.get_alembic_version = lambda: head


def open_gradebook(db_url: str, course_id: str) -> Gradebook:
    """Open (and create when missing) the gradebook at `db_url`."""
    _use_fast_alembic_head()
    # nbgrader runs the `alembic` script when it creates a gradebook: find the venv's copy.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    warnings.filterwarnings("ignore", category=SAWarning)
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Gradebook(db_url, course_id=course_id)


def sync_assignment(gb: Gradebook, assignment: str, masters: list[Path]) -> None:
    """Record the assignment's notebooks and graded cells as nbgrader's release would."""
    gb.update_or_create_assignment(assignment)
    for path in masters:
        notebook = path.stem
        gb.update_or_create_notebook(notebook, assignment)
        master = nbformat.read(str(path), as_version=4)
        for cell in master.cells:
            meta = nbgrader_meta(cell)
            grade_id = meta.get("grade_id")
            if not grade_id:
                continue
            if meta.get("grade"):
                gb.update_or_create_grade_cell(
                    grade_id,
                    notebook,
                    assignment,
                    max_score=float(meta.get("points") or 0),
                    cell_type=cell.cell_type,
                )
            if meta.get("solution"):
                gb.update_or_create_solution_cell(grade_id, notebook, assignment)
            if is_locked(cell) or is_test_cell(cell) or meta.get("solution"):
                gb.update_or_create_source_cell(
                    grade_id,
                    notebook,
                    assignment,
                    cell_type=cell.cell_type,
                    locked=is_locked(cell),
                    source=cell.source,
                )


def record(
    gb: Gradebook, assignment: str, student: str, notebook: str, report: GradeReport
) -> None:
    """Write one notebook's scores; could-not-grade leaves the scores empty for a human."""
    gb.update_or_create_student(student)
    gb.update_or_create_submission(assignment, student)
    for test in report.tests:
        try:
            grade = gb.find_grade(test.grade_id, notebook, assignment, student)
        except MissingEntry:
            continue
        if report.status == "graded":
            grade.auto_score = test.score
            grade.needs_manual_grade = False
        else:
            grade.auto_score = None
            grade.needs_manual_grade = True
    gb.db.commit()


def scores(gb: Gradebook, assignment: str) -> dict[str, dict[str, float | None]]:
    """student -> {grade_id: score} from the gradebook (score None when ungraded)."""
    table: dict[str, dict[str, float | None]] = {}
    for submission in gb.assignment_submissions(assignment):
        row = table.setdefault(submission.student.id, {})
        for nb in submission.notebooks:
            for grade in nb.grades:
                row[grade.name] = grade.score if grade.auto_score is not None else None
    return table
