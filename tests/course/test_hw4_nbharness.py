"""The mutation harness itself, on a tiny synthetic nbgrader notebook."""

from pathlib import Path

import nbformat
import pytest
from nbharness import NotebookHarness

SOLUTION = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
USES = "def quadruple(x):\n    return double(double(x))\n"
SLOW = "raise RuntimeError('this slow cell must be skipped')\n"
TEST_DOUBLE = (
    "assert double(3) == 6, 'double(3) should be 6'\n"
    "### BEGIN HIDDEN TESTS\n"
    "assert double(-1) == -2, 'double(-1) should be -2'\n"
    "### END HIDDEN TESTS\n"
)
TEST_QUAD = "assert quadruple(1) == 4, 'quadruple(1) should be 4'\n"


def _cell(source, *, grade_id=None, solution=False, grade=False, points=0, tags=()):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    if grade_id:
        cell.metadata["nbgrader"] = {
            "grade_id": grade_id,
            "solution": solution,
            "grade": grade,
            "locked": not solution,
            "schema_version": 3,
        }
        if grade:
            cell.metadata["nbgrader"]["points"] = points
    return cell


@pytest.fixture()
def notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("%matplotlib inline\nimport math\n"),
        _cell(SOLUTION, grade_id="double", solution=True),
        _cell(USES),
        _cell(SLOW, tags=["slow"]),
        _cell(TEST_DOUBLE, grade_id="test_double", grade=True, points=2),
        _cell(TEST_QUAD, grade_id="test_quad", grade=True, points=1),
    ]
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_reference_earns_full_marks(notebook):
    harness = NotebookHarness(notebook, skip={"slow"})
    results = harness.run_tests()
    assert results == {"test_double": (True, 2.0, ""), "test_quad": (True, 1.0, "")}
    assert harness.total_points == 3


def test_source_variant_propagates_to_callers(notebook):
    harness = NotebookHarness(notebook, skip={"slow"})
    results = harness.run_tests({"double": "def double(x):\n    return x + x if x > 0 else x\n"})
    assert results["test_double"] == (False, 0.0, "double(-1) should be -2")  # hidden test
    assert results["test_quad"].passed
    broken = harness.run_tests({"double": lambda x: 3 * x})
    assert not broken["test_quad"].passed, "quadruple must call the variant's double"
    assert harness.run_tests()["test_quad"].passed, "variants must not leak into the base"


def test_function_object_variant_is_rebound(notebook):
    def quadruple(x):
        return double(x) * 2  # noqa: F821 - resolved in the notebook's namespace

    harness = NotebookHarness(notebook, skip={"slow"})
    assert harness.run_tests({"quadruple": quadruple}, only=["test_quad"])["test_quad"].passed


def test_visible_only_and_errors(notebook):
    harness = NotebookHarness(notebook, skip={"slow"}, hidden=False)
    assert harness.run_tests(
        {"double": "def double(x):\n    return 6 if x == 3 else 0\n"}, only=["test_double"]
    )["test_double"].passed
    crashed = harness.run_tests({"double": "def double(x):\n    return x / 0\n"})
    assert crashed["test_double"].message.startswith("ZeroDivisionError")
    with pytest.raises(RuntimeError, match="slow cell"):
        NotebookHarness(notebook).setup()


def test_cells_affected_by_follows_calls(notebook):
    harness = NotebookHarness(notebook, skip={"slow"})
    assert harness.cells_affected_by({"double"}) == ["test_double", "test_quad"]
    assert harness.cells_affected_by({"quadruple"}) == ["test_quad"]
    assert harness.cells_affected_by({"math"}) == []
