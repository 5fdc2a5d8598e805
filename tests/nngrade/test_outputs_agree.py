"""Gradebook, records, feedback, report, CSV and Canvas CSV agree after any master change."""

from __future__ import annotations

import json

import nbformat
import pytest
from agreement import assert_agree, six_outputs
from make_tiny import graded_cell
from nngrade.cli import main
from nngrade_support import CLASS, make_course, submit_class

pytestmark = pytest.mark.slow

STUDENTS = sorted(CLASS) + ["frank", "gina"]


def run(config, *args):
    return main([*args, "--course", str(config)])


def outputs(tmp, config):
    assert run(config, "feedback", "tiny") == 0
    assert run(config, "export", "tiny", "--csv", str(tmp / "grades.csv")) == 0
    assert run(config, "export", "tiny", "--csv", str(tmp / "canvas.csv"), "--canvas") == 0
    assert run(config, "report", "tiny") == 0
    return six_outputs(tmp, config, "tiny", STUDENTS)


def _edit_master(tmp, change):
    path = tmp / "source" / "tiny" / "tiny.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    change(nb)
    nbformat.write(nb, str(path))


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def add_test(nb):
    cell = graded_cell("assert square(-2) == 4, 'square(-2) should be 4'", "test_square_negative")
    nb.cells.insert(nb.cells.index(_cell(nb, "test_square_hidden")) + 1, cell)


def remove_test(nb):
    nb.cells.remove(_cell(nb, "test_increment"))


def rename_test(nb):
    _cell(nb, "test_square_visible").metadata["nbgrader"]["grade_id"] = "test_square_renamed"


def change_points(nb):
    _cell(nb, "test_square_hidden").metadata["nbgrader"]["points"] = 5


# change, max score after it, expected (alice, bob) totals after it
CHANGES = [
    (add_test, 5, (5, 2)),  # bob's abs(x) * x fails the new test too
    (remove_test, 4, (4, 1)),
    (rename_test, 4, (4, 1)),
    (change_points, 7, (7, 1)),
]


def test_every_output_agrees_after_each_change_of_the_master(tmp_path, capsys):
    config = make_course(tmp_path)
    assert run(config, "collect", str(submit_class(tmp_path)), "tiny") == 0
    assert run(config, "autograde", "tiny", "--jobs", "2", "--no-progress") == 0
    assert_agree(outputs(tmp_path, config), 4)
    before = {"alice": "4/4", "bob": "2/4"}
    for change, max_score, (alice, bob) in CHANGES:
        _edit_master(tmp_path, change)
        if change is add_test:  # the steps: edit the master, release, autograde
            assert run(config, "release", "tiny") == 0
        capsys.readouterr()
        # until regraded, outputs refuse to mix grades of two masters
        assert run(config, "export", "tiny", "--csv", str(tmp_path / "stale.csv")) == 1
        assert "changed since" in capsys.readouterr().err
        assert run(config, "autograde", "tiny", "--jobs", "2", "--no-progress") == 0
        printed = capsys.readouterr().out
        for student, total in (("alice", alice), ("bob", bob)):
            after = f"{total:g}/{max_score:g}"
            line = f"score changed: {student}/tiny: {before[student]} -> {after}"
            if after != before[student]:
                assert line in printed, (change.__name__, printed)
            else:
                assert f"score changed: {student}/tiny" not in printed, printed
            before[student] = after
        seen = outputs(tmp_path, config)
        assert_agree(seen, max_score)
        assert seen["alice"]["csv"]["total"] == f"{alice:g}", (change.__name__, seen["alice"])
        assert seen["bob"]["csv"]["total"] == f"{bob:g}", (change.__name__, seen["bob"])
        if change is add_test:
            record = tmp_path / "autograder/course/autograded/alice/tiny/tiny.nngrade.json"
            notes = json.loads(record.read_text())["notes"]
            assert any("test_square_negative is new in the master" in n for n in notes), notes
            assert not any("deleted" in n for n in notes), notes


WRITTEN = {
    "nbgrader": {
        "grade": True,
        "grade_id": "why_square",
        "locked": False,
        "points": 2,
        "schema_version": 3,
        "solution": True,
    }
}


def test_manual_graded_answer_awaits_then_counts_everywhere(tmp_path, capsys):
    from nngrade.grading.config import load
    from nngrade.grading.gradebook import open_gradebook

    config = make_course(tmp_path)
    _edit_master(
        tmp_path,
        lambda nb: nb.cells.append(
            nbformat.v4.new_markdown_cell("Squaring keeps signs away.", metadata=WRITTEN)
        ),
    )
    assert run(config, "collect", str(submit_class(tmp_path)), "tiny") == 0
    assert run(config, "autograde", "tiny", "--jobs", "2", "--no-progress") == 0
    seen = outputs(tmp_path, config)
    assert_agree(seen, 6, manual=2)
    assert seen["alice"]["csv"]["status"] == "awaiting-manual-grading"
    assert seen["alice"]["report"].startswith("awaiting manual grading (2 points)")
    assert "auto-graded part 4 / 4" in seen["alice"]["feedback"]
    assert "awaiting manual grading" in capsys.readouterr().out  # export says who waits

    settings = load(config)
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:  # the instructor grades alice's and bob's written answers in formgrader
        gb.find_grade("why_square", "tiny", "tiny", "alice").manual_score = 1.5
        gb.find_grade("why_square", "tiny", "tiny", "bob").manual_score = 2
        gb.db.commit()
    finally:
        gb.close()
    seen = outputs(tmp_path, config)
    assert_agree(seen, 6, manual=2)
    assert seen["alice"]["csv"]["total"] == "5.5" and seen["alice"]["report"] == "5.5 / 6"
    assert seen["bob"]["canvas"] == "4" and seen["bob"]["feedback"] == "4 / 6"
    assert seen["carol"]["csv"]["status"] == "awaiting-manual-grading"
