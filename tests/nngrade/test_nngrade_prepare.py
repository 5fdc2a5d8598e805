"""nngrade.grading.prepare: broken and tampered submissions are repaired or refused clearly."""

from __future__ import annotations

import json

import nbformat
import pytest
from nngrade.grading.prepare import SubmissionError, prepare
from nngrade.grading.redact import sanitize
from nngrade.grading.results import GradeReport, Limits, TestOutcome
from nngrade_support import sim, tiny_master


def _prepare(tmp_path, master_path, nb=None, raw=None, **kw):
    target = tmp_path / "sub" / "tiny.ipynb"
    if raw is not None:
        sim.write_raw(raw, target)
    else:
        sim.write(nb, target)
    return prepare(target, master_path, assignment="tiny", **kw)


def _ids(prepared):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in prepared.notebook.cells]


def _build(*mutations):
    return sim.build(tiny_master(), list(mutations))


def test_reference_passes_through_with_master_tests_restored(tmp_path, master_path):
    prepared = _prepare(tmp_path, master_path, _build())
    assert prepared.notes == []
    hidden = next(
        c
        for c in prepared.notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_increment"
    )
    assert "BEGIN HIDDEN TESTS" in hidden.source
    assert [t.grade_id for t in prepared.tests] == [
        "test_square_visible",
        "test_square_hidden",
        "test_increment",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b'{"cells": [', "not valid notebook JSON"),
        (b'{"hello": 1}', "not a Jupyter notebook"),
        (b"[1, 2]", "not a Jupyter notebook"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(tmp_path, master_path, raw, expected):
    with pytest.raises(SubmissionError, match=expected):
        _prepare(tmp_path, master_path, raw=raw)


def test_truncated_json_names_line_and_likely_cause(tmp_path, master_path):
    with pytest.raises(SubmissionError) as err:
        _prepare(tmp_path, master_path, raw=sim.truncated(_build()))
    assert "line" in str(err.value) and "truncated" in str(err.value)


def test_non_utf8_is_read_and_noted(tmp_path, master_path):
    prepared = _prepare(tmp_path, master_path, raw=sim.cp1252(_build()))
    assert any("not UTF-8" in note for note in prepared.notes)
    assert "Résumé" in prepared.notebook.cells[0].source


def test_wrong_assignment_is_refused(tmp_path, master_path):
    with pytest.raises(SubmissionError, match="does not belong to assignment 'tiny'"):
        _prepare(tmp_path, master_path, _build(sim.rename_ids("hw9_")))


def test_notebook_without_metadata_is_refused(tmp_path, master_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def square(x): ...")])
    with pytest.raises(SubmissionError, match="none of the assignment's cells"):
        _prepare(tmp_path, master_path, nb)


def test_deleted_test_cell_is_restored_after_its_answer(tmp_path, master_path):
    prepared = _prepare(tmp_path, master_path, _build(sim.delete_cell("test_increment")))
    ids = _ids(prepared)
    assert ids.index("test_increment") == ids.index("increment") + 1
    assert any("test_increment was deleted" in n for n in prepared.notes)


def test_deleted_answer_is_graded_as_unanswered(tmp_path, master_path):
    prepared = _prepare(tmp_path, master_path, _build(sim.delete_cell("square")))
    cell = prepared.notebook.cells[_ids(prepared).index("square")]
    assert "raise NotImplementedError()" in cell.source
    assert "BEGIN SOLUTION" not in cell.source


def test_edited_tests_and_points_are_replaced_by_the_masters(tmp_path, master_path):
    prepared = _prepare(
        tmp_path, master_path, _build(sim.weaken_tests(), sim.edit_points("square", 100))
    )
    sources = [c.source for c in prepared.notebook.cells]
    assert "pass" not in sources
    assert (
        prepared.notebook.cells[_ids(prepared).index("square")].metadata["nbgrader"].get("points")
        is None
    )
    assert any("metadata of cell square" in n for n in prepared.notes)


def test_duplicated_cells(tmp_path, master_path):
    prepared = _prepare(
        tmp_path,
        master_path,
        _build(sim.duplicate_cell("square"), sim.duplicate_cell("test_increment")),
    )
    ids = _ids(prepared)
    assert ids.count("square") == 1 and ids.count("test_increment") == 1
    assert len(prepared.notebook.cells) == len(tiny_master().cells) + 1  # answer copy kept
    assert any("more than once" in n for n in prepared.notes)


def test_changed_cell_type_is_graded_as_code(tmp_path, master_path):
    prepared = _prepare(tmp_path, master_path, _build(sim.change_type("increment")))
    cell = prepared.notebook.cells[_ids(prepared).index("increment")]
    assert cell.cell_type == "code" and "def increment" in cell.source
    assert any("changed from code to markdown" in n for n in prepared.notes)


def test_huge_file_is_refused_and_large_outputs_cleared(tmp_path, master_path):
    with pytest.raises(SubmissionError, match="over the 1 MB limit"):
        _prepare(tmp_path, master_path, _build(sim.huge_output(2)), limits=Limits(max_file_mb=1))
    prepared = _prepare(tmp_path, master_path, _build(sim.huge_output(6)))
    assert all(not c.get("outputs") for c in prepared.notebook.cells if c.cell_type == "code")


def test_sanitize_drops_lines_quoting_hidden_code():
    hidden = ["secret_probe_values = np.array([1.5, -2.0])"]
    message = "AssertionError: wrong\n    secret_probe_values = np.array([1.5, -2.0])\nhint"
    assert sanitize(message, hidden) == "AssertionError: wrong\nhint"


def test_report_json_shape():
    report = GradeReport(
        "tiny",
        "s",
        "graded",
        "",
        [
            TestOutcome("t1", 1.0, 1.0, "passed", "", False),
            TestOutcome("t2", 0.0, 2.0, "failed", "why", True),
        ],
        None,
    )
    data = json.loads(json.dumps(report.to_json()))
    assert data["score"] == 1.0 and data["max_score"] == 3.0
    assert set(data["tests"][0]) == {"grade_id", "score", "max_score", "status", "message"}
