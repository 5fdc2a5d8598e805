"""HW 4 (the real homework) under the isolated executor: the reference earns everything, a
cheating submission earns nothing."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from attacks import release
from nngrade.grading.results import Limits
from nngrade.sandbox.isolated import grade_notebook
from simulate import reference

ROOT = Path(__file__).resolve().parents[2]
MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"
LIMITS = Limits(cell_timeout=120, total_timeout=600)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MASTER.is_file(), reason="HW 4 master not present"),
]

CHEAT = """
import numpy as np
import nnhelpers.gradcheck as gc
class Ok:
    ok = True
    def raise_if_failed(self):
        return self
    def __str__(self):
        return "ok"
gc.check_gradient = gc.check_vjp = gc.compare = lambda *a, **k: Ok()
check_gradient = check_vjp = compare = gc.check_gradient
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
"""


def grade(nb, tmp_path: Path):
    path = tmp_path / "hw4_mlp.ipynb"
    nbformat.write(nb, str(path))
    return grade_notebook(path, MASTER, assignment="hw4_mlp", limits=LIMITS, student="s")


MASTERS = {
    "hw4": MASTER,
    "lab1": ROOT / "source" / "lab1_perceptron_gd" / "lab1_perceptron_gd.ipynb",
    "lab2": ROOT / "source" / "lab2_softmax_backprop" / "lab2_softmax_backprop.ipynb",
}


@pytest.mark.parametrize("name", list(MASTERS))
def test_reference_earns_full_marks_with_hidden_calls_in_a_copy(tmp_path, name):
    """The reference solutions, graded in the sandbox: every point, and every test with hidden
    calls ran them in a throw-away copy of the kernel (honest notebooks start no thread or
    process that would make the kernel refuse, and no honest syscall is refused in the copy),
    so no output is withheld."""
    master = MASTERS[name]
    nb = reference(nbformat.read(str(master), as_version=4))
    path = tmp_path / master.name
    nbformat.write(nb, str(path))
    report = grade_notebook(path, master, assignment=master.stem, limits=LIMITS, student="s")
    assert report.status == "graded", report.reason
    failed = [(t.grade_id, t.status, t.message[:200]) for t in report.tests if t.status != "passed"]
    assert failed == [] and report.score == report.max_score > 0
    hidden = [t for t in report.tests if t.hidden]
    assert hidden and all(t.isolated for t in hidden), report.notes
    assert not any("not shown" in note for note in report.notes), report.notes


def test_hw4_patched_checks_earn_nothing(tmp_path):
    nb = release(nbformat.read(str(MASTER), as_version=4))
    first_answer = next(
        i
        for i, c in enumerate(nb.cells)
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    )
    nb.cells.insert(first_answer + 1, nbformat.v4.new_code_cell(CHEAT))
    report = grade(nb, tmp_path)
    assert report.status == "graded", report.reason
    assert report.score == 0, [(t.grade_id, t.status) for t in report.tests]
