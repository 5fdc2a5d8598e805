"""What students and instructors read: feedback hides grader internals, the report groups
failures, `nngrade check` prints every message in full and says what it ran."""

from __future__ import annotations

import html
import json
import re
import sys

import nbformat
import pytest
from nngrade.cli import main
from nngrade.commands.feedback import summary_html
from nngrade.commands.report import message_pattern
from nngrade.grading.executors import available
from nngrade.grading.prepare import SubmissionError, parse
from nngrade_support import make_course, sim, submit_class, tiny_master

pytestmark = pytest.mark.slow

SQUARE = "np.asarray(x) ** 2"
STUDENTS = {
    # before the first hidden test: outputs of cells after it are withheld (issue 13)
    "alice": ([sim.append_code("41 + 1", after="test_square_visible")], "graded", 4.0),
    "harry": ([sim.replace_in("square", SQUARE, "np.asarray(x) + 1")], "graded", 0.0),
    "ivan": ([sim.replace_in("square", SQUARE, "np.asarray(x) * 2")], "graded", 0.0),
}


def run(config, *args):
    return main([*args, "--course", str(config)])


@pytest.fixture(scope="module")
def isolated_course(tmp_path_factory):
    if not available("isolated"):
        pytest.skip("isolated executor not present")
    tmp = tmp_path_factory.mktemp("isolated")
    config = make_course(tmp, executor="isolated", cell_timeout=60)  # slow shared machines
    assert run(config, "collect", str(submit_class(tmp, STUDENTS)), "tiny") == 0
    assert run(config, "autograde", "tiny", "--jobs", "2", "--no-progress") == 0
    assert run(config, "feedback", "tiny") == 0
    assert run(config, "report", "tiny") == 0
    return tmp, config


def test_feedback_never_shows_sandbox_or_host_paths(isolated_course):
    tmp, _ = isolated_course
    course = tmp / "autograder/course"
    record = json.loads((course / "autograded/alice/tiny/tiny.nngrade.json").read_text())
    assert any(line.startswith("sandbox: ") for line in record["log"]), record
    assert not any("sandbox" in n for n in record["notes"]), record["notes"]
    pages = list(course.glob("feedback/*/tiny/tiny.html"))
    assert len(pages) == 5
    for page in pages:
        text = html.unescape(page.read_text())
        for internal in ("sandbox", "DEGRADED", str(tmp), sys.prefix):
            assert internal not in text, (page, internal)
    report = html.unescape((course / "reports/tiny.html").read_text())
    assert "Grader log" in report and "sandbox: " in report  # the instructor sees it


def test_legacy_notes_with_internals_are_screened():
    data = [
        {
            "notebook": "tiny",
            "status": "could-not-grade",
            "reason": f"missing at {sys.prefix}/x",
            "tests": [],
            "score": 0,
            "max_score": 0,
            "notes": ["sandbox: plain", "sandbox warning: DEGRADED SANDBOX: ...", "kept note"],
        }
    ]
    text = summary_html("s", "tiny", data)
    assert "kept note" in text
    assert "sandbox" not in text and "DEGRADED" not in text and sys.prefix not in text


def test_out_numbers_match_in_numbers(isolated_course):
    tmp, _ = isolated_course
    nb = nbformat.read(str(tmp / "autograder/course/autograded/alice/tiny/tiny.ipynb"), 4)
    results = [
        (cell.execution_count, out.get("execution_count"))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "execute_result"
    ]
    assert results and all(a == b for a, b in results), results
    streams = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "Out[" not in streams
    page = (tmp / "autograder/course/feedback/alice/tiny/tiny.html").read_text()
    shown_in = re.findall(r">In[^\[<]*\[(\d+)\]", page)
    shown_out = re.findall(r"Out\[(\d+)\]", page)
    assert shown_out and set(shown_out) <= set(shown_in), (shown_in, shown_out)


def test_report_groups_similar_failures_with_counts_and_students(isolated_course):
    tmp, _ = isolated_course
    page = html.unescape((tmp / "autograder/course/reports/tiny.html").read_text())
    rows = re.findall(r"<tr><td>(\d+)</td><td>test_square_visible</td>(.*?)</tr>", page, re.S)
    assert len(rows) == 1, rows  # "got 4" and "got 6" are one group
    count, rest = rows[0]
    assert count == "2" and "harry, ivan" in rest


def test_report_stylesheet_parses_without_errors(isolated_course):
    """Every rule of the report's CSS reaches the browser (a stray brace drops later rules)."""
    tinycss2 = pytest.importorskip("tinycss2")
    tmp, _ = isolated_course
    page = (tmp / "autograder/course/reports/tiny.html").read_text()
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert styles, "the report has no stylesheet"
    for css in styles:
        rules = tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
        errors = [rule for rule in rules if rule.type == "error"]
        assert not errors, [e.message for e in errors]
        selectors = {tinycss2.serialize(rule.prelude).strip() for rule in rules}
        assert {"body", "td,th", "table"} <= selectors, selectors


def test_message_pattern_blanks_numbers_only():
    assert message_pattern("square(3) should be 9, got 4") == message_pattern(
        "square(3) should be 9, got -6.5"
    )
    assert message_pattern("got [1. 2. 3.]") == message_pattern("got [4, 5]")
    assert message_pattern("shape (2, 5)") != message_pattern("dtype int")


def test_json_error_message_has_no_doubled_at():
    with pytest.raises(SubmissionError) as err:
        parse('{"cells": ["abc', "x.ipynb")
    assert "at at" not in str(err.value) and "starting at line 1" in str(err.value)


def test_check_prints_full_messages_and_what_ran(tmp_path, capsys):
    config = make_course(tmp_path)
    multi = "def square(x):\n    raise ValueError('first line\\nsecond line of the diagnosis')"
    path = sim.write(
        sim.build(tiny_master(), [sim.set_source("square", multi)]), tmp_path / "tiny.ipynb"
    )
    assert run(config, "check", "tiny", str(path)) == 0  # graded, with a failing test
    out = capsys.readouterr().out
    assert "second line of the diagnosis" in out, out
    assert "ran: " in out and "all tests, hidden ones included" in out, out
    release = tmp_path / "release" / "tiny" / "tiny.ipynb"
    sim.write(sim.build(tiny_master(), []), release)
    run(config, "check", "tiny", str(path), "--release-only")
    out = capsys.readouterr().out
    assert "visible tests only: not the final grade" in out.splitlines()[0], out
    assert "hidden tests NOT run (--release-only)" in out, out
    assert "--release-only: the master copy was ignored" in out, out
    assert "no master copy" not in out, out  # there is one: it was ignored on request
