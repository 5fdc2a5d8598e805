"""The demo class: generated from the current HW 4 master; broken ones refused, others repaired."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from nngrade.grading.prepare import SubmissionError, prepare

ROOT = Path(__file__).resolve().parents[2]
MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"

pytestmark = pytest.mark.skipif(not MASTER.is_file(), reason="HW 4 master not present")

REFUSED = {"s13_broken_json", "s14_wrong_assignment", "s15_empty_file"}


def test_demo_class_builds_from_master_and_matches_the_fixture(tmp_path):
    from make_class import CLASS_ZIP, STUDENTS, write_class

    paths = write_class(tmp_path)
    assert len(paths) >= 12 and {p.parent.name for p in paths} == set(STUDENTS)
    with zipfile.ZipFile(CLASS_ZIP) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s}/hw4_mlp.ipynb" for s in STUDENTS)
    for path in paths:
        student = path.parent.name
        if student in REFUSED:
            with pytest.raises(SubmissionError):
                prepare(path, MASTER, assignment="hw4_mlp")
        else:
            prepared = prepare(path, MASTER, assignment="hw4_mlp")
            sources = "\n".join(c.source for c in prepared.notebook.cells)
            assert "BEGIN HIDDEN TESTS" in sources, student  # master tests restored


def test_summary_table_keeps_one_row_per_student_with_multiline_reasons(tmp_path, monkeypatch):
    import json
    from types import SimpleNamespace

    import run_demo

    autograded = tmp_path / "autograded"
    reasons = {"s01": "", "s02": "line one\nline two\n\nline four", "s03": "x" * 300}
    for student, reason in reasons.items():
        folder = autograded / student / run_demo.ASSIGNMENT
        folder.mkdir(parents=True)
        record = {
            "student": student,
            "status": "could-not-grade" if reason else "graded",
            "reason": reason,
            "score": 1,
            "max_score": 1,
            "tests": [{"grade_id": "t", "status": "failed", "message": "a\nb", "score": 0}],
        }
        (folder / f"{run_demo.ASSIGNMENT}.nngrade.json").write_text(json.dumps(record))
    summary = {"students": 3, "graded": 1, "could_not_grade": {"s02": "", "s03": ""}}
    monkeypatch.setattr(run_demo, "class_summary", lambda settings, assignment: summary)
    settings = SimpleNamespace(
        autograded=autograded,
        reports=tmp_path / "r" / "reports",
        release=tmp_path,
        submitted=tmp_path,
        feedback=tmp_path,
        db_url="sqlite://",
    )
    table = run_demo.summary_table(settings, {"autograde": 1.0}).splitlines()
    rows = table[1 : table.index("")]
    assert [row.split()[0] for row in rows] == ["s01", "s02", "s03"], table
    assert "line one line two line four" in rows[1]
    assert all(len(row) <= 130 for row in rows), rows


def test_demo_fails_when_the_reference_lacks_full_marks(tmp_path):
    import json

    import run_demo

    folder = tmp_path / run_demo.REFERENCE / run_demo.ASSIGNMENT
    folder.mkdir(parents=True)
    record = {"status": "graded", "reason": "", "score": 100, "max_score": 100, "tests": [{}]}
    path = folder / "hw4_mlp.nngrade.json"
    path.write_text(json.dumps(record))
    assert run_demo.reference_problem(tmp_path) == ""
    record.update(score=98, tests=[{"grade_id": "t", "score": 0, "max_score": 2, "message": "m"}])
    path.write_text(json.dumps(record))
    assert "got 98/100" in run_demo.reference_problem(tmp_path)
    record.update(status="grader-fault", reason="the sandbox could not start\nFix: ...")
    path.write_text(json.dumps(record))
    assert "grader-fault: the sandbox could not start Fix" in run_demo.reference_problem(tmp_path)
    assert "no grading record" in run_demo.reference_problem(tmp_path / "elsewhere")
