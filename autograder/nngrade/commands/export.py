"""`nngrade export`: grades to CSV (plain, or Canvas's gradebook import layout).

Scores come from `final.class_grades`, like the feedback and the report, so every output gives
the same grade: the gradebook is synced with the current master and the records first, hand
scores from formgrader included. A grade that is not final (awaiting manual grading, could not
grade, grader fault) has an empty total in both files: Canvas then keeps its own value.
"""

from __future__ import annotations

from pathlib import Path

from nngrade.grading.config import Settings
from nngrade.grading.final import AWAITING, class_grades, columns
from nngrade.grading.gradebook import open_gradebook
from nngrade.grading.prepare import master_tests
from nngrade.grading.results import GRADED
from nngrade.grading.safe_text import SafeWriter


def score_columns(settings: Settings, assignment: str) -> list[tuple[str, float]]:
    """(grade id, points) of every test of the assignment, in the masters' order."""
    tests = master_tests(settings.masters(assignment), settings.markers)
    return [(test.grade_id, test.points) for test in tests]


def _names(settings: Settings) -> dict[str, str]:
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:
        return {s.id: (s.last_name or "") for s in gb.students}
    finally:
        gb.close()


def export_csv(settings: Settings, assignment: str, target: Path, *, canvas: bool = False) -> int:
    """Write one row per student; returns the number of rows."""
    grades = class_grades(settings, assignment)
    cols = columns(settings, assignment)
    max_total = sum(c.points for c in cols)
    names = _names(settings) if canvas else {}
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = SafeWriter(handle)  # student ids and reasons never run as formulas
        if canvas:
            writer.writerow(
                [
                    "Student",
                    "ID",
                    "SIS User ID",
                    "SIS Login ID",
                    "Section",
                    f"{assignment} ({max_total:g} points)",
                ]
            )
            writer.writerow(["Points Possible", "", "", "", "", f"{max_total:g}"])
        else:
            writer.writerow(
                [
                    "student",
                    "status",
                    *[c.grade_id for c in cols],
                    "auto_score",
                    "manual_score",
                    "total",
                    "max_score",
                    "reason",
                ]
            )
        for student, grade in sorted(grades.items()):
            total = "" if grade.total is None else f"{grade.total:g}"
            if canvas:
                writer.writerow([names.get(student) or student, student, "", "", "", total])
                continue
            cells = [
                "" if grade.scores.get(c.grade_id) is None else f"{grade.scores[c.grade_id]:g}"
                for c in cols
            ]
            reason = grade.describe() if grade.status == AWAITING else grade.reason
            writer.writerow(
                [
                    student,
                    grade.status,
                    *cells,
                    f"{grade.auto_score:g}" if grade.status in (GRADED, AWAITING) else "",
                    f"{grade.manual_score:g}" if grade.status == GRADED else "",
                    total,
                    f"{max_total:g}",
                    reason,
                ]
            )
    return len(grades)
