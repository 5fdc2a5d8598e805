"""The grading cache: a stored grade is reused only under the key of everything that decides it."""

from __future__ import annotations

import dataclasses

import pytest
from nngrade.cli import main
from nngrade.commands.autograde import plan
from nngrade.grading import records
from nngrade.grading.config import load
from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.results import GradeReport, Limits
from nngrade_support import make_course, submit_class


@pytest.fixture
def files(tmp_path):
    submission, master = tmp_path / "sub.ipynb", tmp_path / "master.ipynb"
    submission.write_text("{}")
    master.write_text("{}")
    return submission, master


def test_key_is_stable_for_the_same_inputs(files):
    key = records.grading_key(*files, "inkernel", Limits(), Markers())
    assert key == records.grading_key(*files, "inkernel", Limits(), DEFAULT)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Markers)])
def test_every_marker_delimiter_is_part_of_the_key(files, field):
    """A master read with other delimiters has other hidden tests and solutions."""
    changed = dataclasses.replace(DEFAULT, **{field: "BEGIN SOMETHING ELSE"})
    assert records.grading_key(*files, "inkernel", Limits(), changed) != records.grading_key(
        *files, "inkernel", Limits(), DEFAULT
    )


def _record_plan_as_graded(settings) -> None:
    """Store every planned task as graded under its key, as `nngrade autograde` does."""
    tasks, _ = plan(settings, "tiny", "inkernel")
    for task in tasks:
        report = GradeReport("tiny", task.student, "graded", "")
        records.save(
            settings.autograded, task.student, "tiny", task.notebook, task.key, report, "inkernel"
        )


def test_a_change_of_the_markers_configuration_grades_again(tmp_path):
    """Same submissions, same master file, other `ClearHiddenTests` delimiters in the course's
    nbgrader_config.py: no cached grade may be reused (nor after changing them back)."""
    config = make_course(tmp_path)
    inbox = submit_class(tmp_path, {"alice": ([], "graded", 4.0), "bob": ([], "graded", 4.0)})
    assert main(["collect", str(inbox), "tiny", "--course", str(config)]) == 0
    _record_plan_as_graded(load(config))
    tasks, skipped = plan(load(config), "tiny", "inkernel")
    assert tasks == [] and len(skipped) == 4  # alice, bob and the two broken notebooks

    settings_file = config / "nbgrader_config.py"
    original = settings_file.read_text()
    settings_file.write_text(
        original + "c.ClearHiddenTests.begin_test_delimeter = 'BEGIN SECRET TESTS'\n"
        "c.ClearHiddenTests.end_test_delimeter = 'END SECRET TESTS'\n"
    )
    tasks, skipped = plan(load(config), "tiny", "inkernel")
    assert skipped == [] and len(tasks) == 4

    settings_file.write_text(original)  # back to the delimiters the stored grades used
    assert plan(load(config), "tiny", "inkernel")[0] == []
