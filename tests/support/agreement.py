"""Read one student's grade out of each of the six outputs (for the agreement tests)."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

from nngrade.grading.config import load
from nngrade.grading.gradebook import open_gradebook


def gradebook_view(config: Path, assignment: str) -> dict[str, tuple[float, bool]]:
    """student -> (sum of scores given, every graded cell has a score) from nbgrader's API."""
    settings = load(config)
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:
        view = {}
        cells = {c.name for nb in gb.find_assignment(assignment).notebooks for c in nb.grade_cells}
        for sub in gb.assignment_submissions(assignment):
            grades = [g for nb in sub.notebooks for g in nb.grades]
            given = [g for g in grades if g.auto_score is not None or g.manual_score is not None]
            names = {g.name for g in grades}
            complete = len(given) == len(grades) and names == cells
            view[sub.student.id] = (float(sum(g.score for g in given)), complete)
        return view
    finally:
        gb.close()


def six_outputs(tmp: Path, config: Path, assignment: str, students: list[str]) -> dict:
    """student -> what each output says; run after feedback, export (both) and report."""
    course = tmp / "autograder" / "course"
    gb = gradebook_view(config, assignment)
    rows = {r["student"]: r for r in csv.DictReader((tmp / "grades.csv").open())}
    canvas = {r[1]: r[5] for r in list(csv.reader((tmp / "canvas.csv").open()))[2:]}
    report = html.unescape((course / "reports" / f"{assignment}.html").read_text())
    found = {}
    for student in students:
        recs = [
            json.loads(p.read_text())
            for p in sorted((course / "autograded" / student / assignment).glob("*.nngrade.json"))
        ]
        page = html.unescape(
            (course / "feedback" / student / assignment / f"{assignment}.html").read_text()
        )
        shown = re.search(r"<b class='nngrade-score'>Score: (.*?)</b>", page)
        row = re.search(
            rf"<tr data-student='{re.escape(student)}'>.*?<td class='score'>(.*?)</td>", report
        )
        found[student] = {
            "gradebook": gb.get(student),
            "records": (
                sum(r["score"] for r in recs),
                sum(r["max_score"] for r in recs),
                {r["status"] for r in recs},
            ),
            "feedback": shown.group(1) if shown else None,
            "report": row.group(1) if row else None,
            "csv": rows.get(student),
            "canvas": canvas.get(student),
        }
    return found


def assert_agree(outputs: dict, max_score: float, manual: float = 0.0) -> None:
    """Every output gives each student the same grade (or the same "not final")."""
    for student, out in outputs.items():
        auto, auto_max, statuses = out["records"]
        gb_sum, complete = out["gradebook"]
        row = out["csv"]
        where = f"{student}: {out}"
        assert auto_max + manual == max_score or statuses != {"graded"}, where
        assert out["feedback"] is not None and out["report"] is not None, where
        if statuses == {"graded"}:
            assert out["feedback"] == out["report"], where
        assert row["total"] == out["canvas"], where
        if statuses == {"graded"} and complete:
            assert row["status"] == "graded", where
            assert float(row["total"]) == gb_sum, where
            assert float(row["auto_score"]) == auto, where
            assert out["report"] == f"{gb_sum:g} / {max_score:g}", where
        elif statuses == {"graded"}:
            assert row["status"] == "awaiting-manual-grading" and row["total"] == "", where
            assert float(row["auto_score"]) == auto == gb_sum, where
            assert "awaiting manual grading" in out["report"], where
            assert f"auto-graded part {auto:g} / {auto_max:g}" in out["report"], where
            assert "awaiting manual grading" in row["reason"], where
        else:
            assert row["total"] == "" and row["status"] in statuses, where
            assert gb_sum == 0, where
