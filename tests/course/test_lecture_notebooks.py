"""The lecture notebooks: each runs top to bottom in a fresh kernel and points to its assignment.

Run times are not asserted (shared, noisy machine); they are recorded as junit properties, and
tests/conftest.py prints them at the end of the session and writes test-artifacts/lecture-times.json
(in the main process, so it holds every lecture when pytest-xdist workers ran them).
"""

from __future__ import annotations

import nbformat
import pytest
from _lecture_runs import LECTURES, NOTEBOOK_DIR

# Which assignment each lecture sends the student to (issue 3: lab 1 after 1-3, lab 2 after 4-5).
ASSIGNMENT_AFTER = {
    "01": "lab1_perceptron_gd",
    "02": "lab1_perceptron_gd",
    "03": "lab1_perceptron_gd",
    "04": "lab2_softmax_backprop",
    "05": "lab2_softmax_backprop",
    "06": "hw4_mlp",
    "07": "hw4_mlp",  # its stretch goal: the full 28x28 set
}


def test_the_seven_lectures_are_there():
    assert [name[:2] for name in LECTURES] == sorted(ASSIGNMENT_AFTER), (
        f"expected lecture notebooks 01..07 in {NOTEBOOK_DIR}, found {LECTURES}"
    )


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_ends_by_pointing_to_its_assignment(name: str):
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    last = nb.cells[-1]
    assignment = ASSIGNMENT_AFTER[name[:2]]
    assert last.cell_type == "markdown" and assignment in last.source, (
        f"{name}: the last cell should be Markdown naming the assignment '{assignment}'; "
        f"it is a {last.cell_type} cell starting {last.source[:80]!r}"
    )


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_has_no_blanks_left(name: str):
    """Lectures are complete: no nbgrader solution markers, no NotImplementedError stubs."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    for index, cell in enumerate(nb.cells):
        for marker in ("### BEGIN SOLUTION", "NotImplementedError", "YOUR CODE HERE"):
            assert marker not in cell.source, f"{name}, cell {index}: contains {marker!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURES)
def test_lecture_runs_top_to_bottom(name: str, record_property, lecture_runs):
    run = lecture_runs(name)
    assert run.lecture_ok, (
        f"{name}: cell {run.error_cell} failed when run top to bottom in a fresh kernel:\n"
        f"{run.error}"
    )
    assert run.seconds is not None, f"{name}: no lecture cell reported completion"
    record_property("seconds", round(run.seconds, 1))  # tests/conftest.py prints them all
