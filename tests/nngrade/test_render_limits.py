"""Per-student limits on what is stored and rendered (issue 13: "a 1 MB code cell took
feedback 49 s and 1.18 GB; 100k markdown cells 85 s; ValueError('x' * 65536) in many cells
made a 1.17 GB graded copy").

Sizes, not times, are asserted (no timed tests): the graded copy and the page stay within the
caps, every cut says so, honest students' pages are untouched, and a page that would take too
long or too much memory is cut off by its worker. benchmarks/feedback_render.py measures the
time and memory.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from adv_master import ASSIGNMENT, master
from attacks import BY_NAME
from harness import LIMITS, make_course, new_token
from nngrade.commands.feedback import page_text, write_feedback
from nngrade.grading import caps, config, records
from nngrade.grading.render_worker import RenderTimeout, RenderWorker
from nngrade.grading.results import GradeReport, TestOutcome
from nngrade.sandbox.launcher import detect
from simulate import reference

ERROR = "x" * 65536


@pytest.fixture
def course():
    course = make_course(gradebook=False)
    yield course
    course.close()


def _raising_cell() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("raise ValueError('x' * 65536)")
    cell.outputs = [
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue=ERROR, traceback=[f"ValueError: {ERROR}"] * 3
        )
    ]
    return cell


def _save(settings, course, student: str, nb) -> None:
    tests = [TestOutcome("test_double", 2.0, 2.0, "passed", "", True)]
    report = GradeReport(ASSIGNMENT, student, "graded", "", tests, nb)
    records.save(
        settings.autograded, student, ASSIGNMENT, ASSIGNMENT, "k", report, "x",
        master=course.master,
    )  # fmt: skip


def hostile_notebooks() -> dict[str, nbformat.NotebookNode]:
    big = reference(master())
    big.cells.insert(2, nbformat.v4.new_code_cell("x = 1  # padding\n" * 65_000))  # 1.1 MB
    many = reference(master())
    many.cells += [nbformat.v4.new_markdown_cell(f"cell {i} $x_{i}$") for i in range(20_000)]
    errors = reference(master())
    errors.cells[2:2] = [_raising_cell() for _ in range(400)]
    image = reference(master())
    huge = nbformat.v4.new_code_cell("plot()")
    huge.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0K" * 1_000_000}),
        nbformat.v4.new_output("stream", name="stdout", text="y" * 10_000_000),
    ]
    image.cells.insert(2, huge)
    return {"big_cell": big, "many_cells": many, "raising_cells": errors, "huge_outputs": image}


def test_graded_copies_and_pages_stay_within_the_caps(course):
    settings = config.load(course.config_dir)
    _save(settings, course, "alice", reference(master()))
    for student, nb in hostile_notebooks().items():
        _save(settings, course, student, nb)
    sizes = {
        s: records.paths(settings.autograded, s, ASSIGNMENT, ASSIGNMENT)[0].stat().st_size
        for s in ("raising_cells", "huge_outputs")
    }
    # 400 x (64 KB value + 3 x 64 KB traceback) was 100 MB; a 10 MB stream and an 8 MB image
    for student, size in sizes.items():
        assert size < caps.MAX_OUTPUTS_TOTAL + 1_000_000, (student, size)
    pages = {
        p.parts[-3]: p.read_text(encoding="utf-8") for p in write_feedback(settings, ASSIGNMENT)
    }
    assert sorted(pages) == ["alice", "big_cell", "huge_outputs", "many_cells", "raising_cells"]
    for student, page in pages.items():
        text = page_text(page)
        assert "Score:" in text and len(page) < 3_000_000, (student, len(page))
        assert "def double" in text, student  # the notebook is shown, shortened
        if student != "alice":
            assert "truncated:" in text, student
            assert "not shown on this page" not in text, student
    alice = page_text(pages["alice"])
    assert "truncated:" not in alice and "This page is shortened" not in alice
    assert (
        "100000 cells" in page_text(pages["many_cells"]) or "cells omitted" in pages["many_cells"]
    )


def test_render_caps_leave_an_honest_notebook_alone():
    nb = reference(master())
    before = nbformat.writes(nb)
    assert caps.limit_for_render(nb) == []
    assert nbformat.writes(nb) == before


def test_worker_kills_a_page_past_its_deadline_and_serves_the_next():
    with RenderWorker(seconds=1) as worker:
        started = time.monotonic()
        with pytest.raises(RenderTimeout):
            worker.call(time.sleep, 60)
        assert time.monotonic() - started < 30  # killed, not waited for
        assert worker.call(str.upper, "next student") == "NEXT STUDENT"


def test_worker_memory_limit_is_that_pages_error():
    with RenderWorker(memory_mb=512) as worker:
        with pytest.raises(MemoryError):
            worker.call(bytearray, 2**31)
        assert worker.call(str.upper, "ok") == "OK"


@pytest.mark.slow
@pytest.mark.skipif(detect(False).mode != "namespaces", reason="needs the namespace sandbox")
def test_raising_cells_graded_in_the_sandbox_make_a_small_graded_copy(course):
    from nngrade.sandbox.isolated import grade_notebook

    attack = BY_NAME["huge_error_texts"]
    path = course.submission(attack.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(attack.notebook(master(), **course.context(new_token(attack.name))), str(path))
    report = grade_notebook(path, course.master, assignment=ASSIGNMENT, limits=LIMITS)
    assert report.status == "graded" and report.score == 6.0, report.reason
    settings = config.load(course.config_dir)
    records.save(
        settings.autograded, attack.name, ASSIGNMENT, ASSIGNMENT, "k", report, "isolated",
        master=course.master,
    )  # fmt: skip
    graded = records.paths(settings.autograded, attack.name, ASSIGNMENT, ASSIGNMENT)[0]
    # 300 x (64 KB value + 20 KB traceback) = 25 MB before the caps
    assert graded.stat().st_size < caps.MAX_OUTPUTS_TOTAL + 1_000_000, graded.stat().st_size
    assert "truncated:" in graded.read_text(encoding="utf-8")
