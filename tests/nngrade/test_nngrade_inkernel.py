"""The in-kernel executor: timeouts, kernels that ignore interrupts or die, release-only mode."""

from __future__ import annotations

import pytest
from nngrade.grading.inkernel import grade_notebook
from nngrade.grading.results import HIDDEN_NOT_RUN, Limits
from nngrade_support import sim, tiny_master

pytestmark = pytest.mark.slow


def _grade(tmp_path, master_path, *mutations, **limits):
    submission = sim.write(sim.build(tiny_master(), list(mutations)), tmp_path / "s" / "tiny.ipynb")
    return grade_notebook(
        submission,
        master_path,
        assignment="tiny",
        limits=Limits(**{"cell_timeout": 3, **limits}),
        student="s",
    )


def test_kernel_ignoring_interrupts_is_killed_and_reported(tmp_path, master_path):
    stubborn = (
        "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
        "    except KeyboardInterrupt:\n        pass"
    )
    report = _grade(tmp_path, master_path, sim.append_code(stubborn, after="square"))
    assert report.status == "could-not-grade"
    assert "ignored the interrupt" in report.reason
    assert [t.status for t in report.tests][-1] == "not-run"


def test_dying_kernel_is_reported(tmp_path, master_path):
    report = _grade(
        tmp_path, master_path, sim.append_code("import os\nos._exit(3)", after="square")
    )
    assert report.status == "could-not-grade" and "kernel died" in report.reason


def test_slow_test_cell_times_out_and_others_still_run(tmp_path, master_path):
    slow = "def increment(n):\n    import time\n    time.sleep(60)\n    return n + 1"
    report = _grade(tmp_path, master_path, sim.set_source("increment", slow))
    by_id = {t.grade_id: t for t in report.tests}
    assert report.status == "graded"
    assert by_id["test_increment"].status == "timeout"
    assert by_id["test_square_hidden"].status == "passed"


def test_hidden_false_runs_only_visible_parts(tmp_path, master_path):
    submission = sim.write(
        sim.build(tiny_master(), [sim.replace_in("increment", "n + 1", "n")]),
        tmp_path / "s" / "tiny.ipynb",
    )
    report = grade_notebook(
        submission, master_path, assignment="tiny", limits=Limits(), hidden=False
    )
    assert report.score == report.max_score  # the bug is caught only by a hidden test
    assert HIDDEN_NOT_RUN in report.notes
