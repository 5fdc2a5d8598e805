"""`nngrade export`: grades from the nbgrader gradebook to CSV (plain or Canvas import layout)."""

from __future__ import annotations

import csv
from pathlib import Path

from nngrade.grading import records
from nngrade.grading.config import Settings
from nngrade.grading.gradebook import open_gradebook, scores
from nngrade.grading.prepare import master_tests


def score_columns(settings: Settings, assignment: str) -> list[tuple[str, float]]:
    """(grade id, points) of every test of the assignment, in the masters' order."""
    tests = master_tests(settings.masters(assignment), settings.markers)
    return [(test.grade_id, test.points) for test in tests]


def export_csv(settings: Settings, assignment: str, target: Path, *, canvas: bool = False) -> int:
    """Write one row per student; returns the number of rows."""
    columns = score_columns(settings, assignment)
    max_total = sum(points for _, points in columns)
    status = {
        student: (
            "graded" if all(r["status"] == "graded" for r in data) else "could-not-grade",
            "; ".join(r["reason"] for r in data if r["reason"]),
        )
        for student, data in records.all_records(settings.autograded, assignment).items()
    }
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:
        table = scores(gb, assignment)
        names = {s.id: (s.last_name or "") for s in gb.students}
    finally:
        gb.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
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
                ["student", "status", *[g for g, _ in columns], "total", "max_score", "reason"]
            )
        for student in sorted(table):
            row = table[student]
            state, reason = status.get(student, ("not-graded", "no grading record"))
            total = sum(v for v in row.values() if v is not None)
            shown_total = f"{total:g}" if state == "graded" else ""
            if canvas:
                writer.writerow([names.get(student) or student, student, "", "", "", shown_total])
            else:
                cells = [("" if row.get(g) is None else f"{row[g]:g}") for g, _ in columns]
                writer.writerow([student, state, *cells, shown_total, f"{max_total:g}", reason])
    return len(table)
