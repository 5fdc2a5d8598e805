"""The nbgrader gradebook (nbgrader.api.Gradebook): assignment structure and scores.

Only the parent process of a run writes here, one result at a time. SQLite (the embedded
default) allows one writer anyway; on PostgreSQL several `nngrade` commands may run at once
(two autogrades, an export while grading), so every write transaction first takes one
transaction-scoped advisory lock: nbgrader's read-then-insert `update_or_create_*` calls are
then never interleaved (no duplicate student or submission, no lost row), and readers are
never blocked (MVCC).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from nngrade.grading.config import normalize_url
from nngrade.grading.prepare import is_locked, is_test_cell, nbgrader_meta
from nngrade.grading.results import GRADED, GradeReport


def alembic_head() -> str:
    """nbgrader's current schema revision, from its migration scripts (alembic's own API)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader import dbutil

    config = Config()
    config.set_main_option("script_location", dbutil.ALEMBIC_DIR)
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError(f"no schema head in nbgrader's migrations ({dbutil.ALEMBIC_DIR})")
    return head


WRITE_LOCK = 0x6E6E6772  # "nngr": the advisory lock id of gradebook writes (PostgreSQL)


def write_lock(connection) -> None:
    """Serialize this transaction with other `nngrade` processes (PostgreSQL only): held
    until it commits or rolls back. A no-op on SQLite, whose database lock allows one writer."""
    from sqlalchemy import text

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})


@contextmanager
def writing(gb: Gradebook) -> Iterator[None]:
    """Hold the gradebook's write lock across several of nbgrader's calls (PostgreSQL only).

    nbgrader's `update_or_create_*` read, insert and commit one by one, so a transaction-scoped
    lock would be released at their first commit. The lock is taken instead at session level on
    a connection of its own, kept until the block ends: other `nngrade` processes wait, their
    reads never do.
    """
    from sqlalchemy import text

    engine = gb.db.get_bind()
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": WRITE_LOCK})
        lock.commit()
        try:
            yield
        finally:
            gb.db.rollback()  # nothing uncommitted outlives the lock
            lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": WRITE_LOCK})
            lock.commit()


def create_gradebook(db_url: str) -> None:
    """Create a new, empty gradebook exactly as nbgrader's `Gradebook()` would, in this process.

    For a new database `Gradebook()` creates nbgrader's tables and stamps them with the schema
    head, which it learns by running the `alembic` script: a second Python start-up (~3 s) that
    fails when the venv is not on PATH. Done here first, `Gradebook()` finds an existing
    gradebook and skips that step. An existing database is left alone.
    """
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text

    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(db_url, future=True)
    try:
        if inspect(engine).get_table_names():
            return
        with engine.begin() as connection:
            write_lock(connection)  # two first runs at once: one creates, the other waits
            if inspect(connection).get_table_names():
                return
            Base.metadata.create_all(bind=connection)
            connection.execute(
                text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            )
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                {"head": alembic_head()},
            )
    finally:
        engine.dispose()


def open_gradebook(db_url: str, course_id: str) -> Gradebook:
    """Open (and create when missing) the gradebook at `db_url`."""
    # nbgrader's own gradebook calls make SQLAlchemy warn about its autoflush ("Object of type
    # <SubmittedNotebook> not in session ..."): noise on every run, and not ours to fix. Silenced
    # for warnings attributed to nbgrader.api only; SQLAlchemy warnings about other code show.
    warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader\.api")
    db_url = normalize_url(db_url)
    create_gradebook(db_url)
    return Gradebook(db_url, course_id=course_id)


def sync_assignment(gb: Gradebook, assignment: str, masters: list[Path]) -> None:
    """Make the gradebook's structure of `assignment` the current master's.

    Graded cells are created or updated (points, type), cells no longer in the master (removed
    or renamed tests) are deleted with their grades, and every existing submission gets a grade
    row for every graded cell, so a test added after grading is never an empty column.
    """
    with writing(gb):
        gb.update_or_create_assignment(assignment)
        for path in masters:
            notebook = path.stem
            gb.update_or_create_notebook(notebook, assignment)
            master = nbformat.read(str(path), as_version=4)
            _sync_cells(gb, assignment, notebook, master)
            _prune(gb, assignment, notebook, master)
        for submission in gb.assignment_submissions(assignment):
            _fill_grade_rows(gb, submission)
        gb.db.commit()


def _prune(gb: Gradebook, assignment: str, notebook: str, master) -> None:
    """Delete cells (and their grades and comments) the master no longer has."""
    from nbgrader.api import Comment, Grade

    graded = {
        nbgrader_meta(c).get("grade_id") for c in master.cells if nbgrader_meta(c).get("grade")
    }
    solution = {
        nbgrader_meta(c).get("grade_id") for c in master.cells if nbgrader_meta(c).get("solution")
    }
    source = {
        nbgrader_meta(c).get("grade_id")
        for c in master.cells
        if nbgrader_meta(c).get("grade_id")
        and (is_locked(c) or is_test_cell(c) or nbgrader_meta(c).get("solution"))
    }
    nb = gb.find_notebook(notebook, assignment)
    for cell in list(nb.grade_cells):
        if cell.name not in graded:
            for grade in gb.db.query(Grade).filter(Grade.cell_id == cell.id).all():
                gb.db.delete(grade)
            gb.db.delete(cell)
    for cell in list(nb.solution_cells):
        if cell.name not in solution:
            for comment in gb.db.query(Comment).filter(Comment.cell_id == cell.id).all():
                gb.db.delete(comment)
            gb.db.delete(cell)
    for cell in list(nb.source_cells):
        if cell.name not in source:
            gb.db.delete(cell)
    gb.db.flush()
    gb.db.expire_all()  # loaded collections must forget the deleted cells


def _fill_grade_rows(gb: Gradebook, submission) -> None:
    """Create the missing grade (and comment) rows of a submission, as nbgrader's own
    `add_submission` does for cells that existed at its time."""
    from nbgrader.api import Comment, Grade, SubmittedNotebook

    for notebook in submission.assignment.notebooks:
        nb = next((n for n in submission.notebooks if n.name == notebook.name), None)
        if nb is None:
            nb = SubmittedNotebook(notebook=notebook, assignment=submission)
            gb.db.add(nb)
        have = {g.cell_id for g in nb.grades}
        for cell in notebook.grade_cells:
            if cell.id not in have:
                gb.db.add(Grade(cell_id=cell.id, notebook=nb))
        commented = {c.cell_id for c in nb.comments}
        for cell in notebook.solution_cells:
            if cell.id not in commented:
                gb.db.add(Comment(cell_id=cell.id, notebook=nb))
    gb.db.flush()


def _sync_cells(gb: Gradebook, assignment: str, notebook: str, master) -> None:
    """Create or update the master's graded, solution and source cells."""
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
    gb: Gradebook, assignment: str, student: str, notebook: str, report: GradeReport | dict
) -> None:
    """Write one notebook's autograded scores (a GradeReport, or a stored record's dict).

    Only a graded notebook gets scores. Could-not-grade leaves the test scores empty and
    flagged for a human; a grader fault is no grade at all, so it empties them too (a stale
    score of an older submission must not stand). Manual scores given in formgrader are never
    touched.
    """
    status = report["status"] if isinstance(report, dict) else report.status
    tests = report["tests"] if isinstance(report, dict) else [t.to_json() for t in report.tests]
    with writing(gb):
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        _fill_grade_rows(gb, submission)
        # the notebook's grade rows looked up once (their cells are loaded already), not with
        # one five-table query per test as nbgrader's find_grade does (12 per HW 4 result)
        submitted = next((n for n in submission.notebooks if n.name == notebook), None)
        rows = {g.name: g for g in submitted.grades} if submitted is not None else {}
        for test in tests:
            grade = rows.get(test["grade_id"])
            if grade is None:  # not in the master any more: nothing to record
                continue
            if status == GRADED:
                grade.auto_score = test["score"]
                grade.needs_manual_grade = False
            else:
                grade.auto_score = None
                grade.needs_manual_grade = True
        gb.db.commit()


def scores(gb: Gradebook, assignment: str) -> dict[str, dict[str, float | None]]:
    """student -> {grade_id: score} from the gradebook (None while ungraded).

    A score is the manual one when a human gave one in formgrader, otherwise the autograder's
    (nbgrader's own rule, extra credit included).
    """
    table: dict[str, dict[str, float | None]] = {}
    for submission in gb.assignment_submissions(assignment):
        row = table.setdefault(submission.student.id, {})
        for nb in submission.notebooks:
            for grade in nb.grades:
                given = grade.manual_score is not None or grade.auto_score is not None
                row[grade.name] = float(grade.score) if given else None
    return table
