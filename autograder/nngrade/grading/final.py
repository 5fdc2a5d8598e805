"""Every student's grade as all outputs show it: one computation for feedback, report and exports.

The gradebook (nbgrader's) and the grading records must agree, whatever happened to the master
since: `class_grades` first makes the gradebook's structure the current master's and copies every
record's autograded scores into it, refuses records graded under another master (stale), then
reads each score from the gradebook, where hand-given scores from formgrader live too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nngrade.grading import records
from nngrade.grading.config import Settings
from nngrade.grading.prepare import is_test_cell, nbgrader_meta, read_master
from nngrade.grading.results import COULD_NOT_GRADE, GRADED, GRADER_FAULT

# A final grade is one of the report statuses (results.GRADED, ...) or one of these two.
AWAITING, NOT_GRADED = "awaiting-manual-grading", "not-graded"
AWAITING_TEXT = "awaiting manual grading"


class StaleGrades(RuntimeError):
    """Records were made under another master copy: outputs would disagree until regraded."""


@dataclass
class Column:
    """One graded cell of the master: an autograded test or an answer graded by hand."""

    grade_id: str
    notebook: str
    points: float
    manual: bool


@dataclass
class StudentGrade:
    """One student's grade for one assignment, as every output shows it."""

    student: str
    status: str  # graded | awaiting-manual-grading | could-not-grade | grader-fault | not-graded
    reason: str
    scores: dict[str, float | None]  # grade_id -> points (None: not graded yet)
    columns: list[Column] = field(default_factory=list)

    @property
    def auto_score(self) -> float:
        """Points from the autograded tests."""
        return sum(self.scores.get(c.grade_id) or 0.0 for c in self.columns if not c.manual)

    @property
    def auto_max(self) -> float:
        return sum(c.points for c in self.columns if not c.manual)

    @property
    def manual_score(self) -> float:
        """Points given by hand so far."""
        return sum(self.scores.get(c.grade_id) or 0.0 for c in self.columns if c.manual)

    @property
    def awaiting(self) -> list[Column]:
        """Hand-graded cells with no score yet."""
        return [c for c in self.columns if c.manual and self.scores.get(c.grade_id) is None]

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.columns)

    @property
    def total(self) -> float | None:
        """The final score, or None while it is not final (not graded, awaiting a human)."""
        if self.status != GRADED:
            return None
        return self.auto_score + self.manual_score

    def describe(self) -> str:
        """The score in words, the same in every output."""
        if self.status == GRADED:
            return f"{self.total:g} / {self.max_score:g}"
        if self.status == AWAITING:
            waiting = sum(c.points for c in self.awaiting)
            return (
                f"{AWAITING_TEXT} ({waiting:g} points); auto-graded part "
                f"{self.auto_score:g} / {self.auto_max:g}"
            )
        return self.status.replace("-", " ")


def columns(settings: Settings, assignment: str) -> list[Column]:
    """The graded cells of the current master, in order: tests and hand-graded answers."""
    found = []
    for path in settings.masters(assignment):
        for cell in read_master(path).cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and meta.get("grade_id"):
                found.append(
                    Column(
                        meta["grade_id"],
                        path.stem,
                        float(meta.get("points") or 0),
                        manual=not is_test_cell(cell),
                    )
                )
    return found


def stale_students(settings: Settings, assignment: str, data: dict[str, list[dict]]) -> list[str]:
    """Students whose records were graded under a master other than the current one."""
    hashes = {p.stem: records.file_hash(p) for p in settings.masters(assignment)}
    stale = []
    for student, recs in sorted(data.items()):
        seen = {r.get("notebook") for r in recs}
        if any(r.get("master_sha256") != hashes.get(r.get("notebook")) for r in recs) or (
            seen != set(hashes)
        ):
            stale.append(student)
    return stale


def class_grades(settings: Settings, assignment: str) -> dict[str, StudentGrade]:
    """student -> StudentGrade, after syncing the gradebook with the master and the records.

    Raises StaleGrades when some records were graded under another master copy.
    """
    from nngrade.grading.gradebook import open_gradebook, record, scores, sync_assignment

    masters = settings.masters(assignment)
    if not masters:
        raise FileNotFoundError(f"no master notebooks in {settings.source / assignment}")
    cols = columns(settings, assignment)
    data = records.all_records(settings.autograded, assignment)
    stale = stale_students(settings, assignment, data)
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise StaleGrades(
            f"the master of {assignment} changed since {len(stale)} students were graded "
            f"({shown}): run `nngrade autograde {assignment}` first (it regrades them and "
            "prints whose score changed)"
        )
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:
        sync_assignment(gb, assignment, masters)
        for student, recs in data.items():
            for rec in recs:
                record(gb, assignment, student, rec["notebook"], rec)
        table = scores(gb, assignment)
    finally:
        gb.close()
    result = {}
    for student in sorted(set(table) | set(data)):
        recs = data.get(student, [])
        statuses = {r["status"] for r in recs}
        reason = "; ".join(r["reason"] for r in recs if r.get("reason"))
        row = table.get(student, {})
        if not recs:
            status, reason = NOT_GRADED, "no grading record"
        elif GRADER_FAULT in statuses:
            status = GRADER_FAULT
        elif COULD_NOT_GRADE in statuses:
            status = COULD_NOT_GRADE
        elif any(c.manual and row.get(c.grade_id) is None for c in cols):
            status = AWAITING
        else:
            status = GRADED
        result[student] = StudentGrade(student, status, reason, dict(row), cols)
    return result
