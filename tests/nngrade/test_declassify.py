"""The one rule for what hidden blocks say (nngrade/grading/declassify.py), piece by piece.

The end-to-end attacks on lab 1, lab 2 and HW 4 are in test_hidden_messages.py; these are the
parts: the filter, the marking of hidden blocks, nnhelpers' hidden reports and the in-kernel
executor's messages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import numpy as np
from nngrade.grading import declassify as dc
from nngrade.grading import prepare
from nngrade.grading.markers import hidden_line_numbers
from nngrade.grading.redact import outcome_for
from nnhelpers.gradcheck import check_vjp, compare, hidden_inputs

MASTER = (
    "A = rng.normal(size=(6, 4))\n"
    "assert ok, f'softmax gives {out} for A (6, 4); expected 0.1875'\n"
    "choice in ('a', 'b')\n"
)
HIDDEN_CELL = """import numpy as np
x = np.ones(3)
### BEGIN HIDDEN TESTS
def helper(v):
    return compare(v, 2 * x, name="helper on hidden x").raise_if_failed()
compare(f(x), x, name="f on hidden x").raise_if_failed()
### END HIDDEN TESTS
helper(f(x))
"""


def test_numbers_coarsened_and_capped_master_literals_kept():
    text = dc.declassify("got 0.123456, 1234.5678 and 98765 for A (6, 4); expected 0.1875", MASTER)
    assert "0.12," in text and "1.2e+03" in text and "99000" in text  # 2 significant digits
    assert "(6, 4)" in text and "0.1875" in text  # written in the master: kept as they are
    many = dc.declassify(" ".join(f"{k + 0.123:.3f}" for k in range(20, 50)), MASTER)
    assert many.count(dc.GONE) == 30 - dc.MAX_NUMBERS > 0


def test_student_words_and_quoted_strings_removed_instructor_ones_kept():
    text = dc.declassify(
        "your softmax raised Leak_0p123456_1p5: 'x0.123456' is not 'a'; MyDtype relative error",
        MASTER,
    )
    assert "Leak_" not in text and "x0.123456" not in text and "MyDtype" not in text
    assert "softmax" in text and "'a'" in text and "relative error" in text
    assert dc.declassify("'b' is not right; \"a\" is", MASTER) == "'b' is not right; \"a\" is"
    assert "student's answer" in dc.declassify("the student's answer", MASTER)  # not a quote


def test_worst_entry_tables_dropped():
    report = str(compare(np.array([1.0, 2.0, 3.25]), np.array([1.0, 2.0, 3.0]), name="v"))
    assert "worst entries" in report and "3.25" in report
    text = dc.declassify(report, MASTER)
    assert "worst entries" not in text and "3.2" not in text and dc.HIDDEN_ENTRIES in text


def test_nnhelpers_hidden_form_names_the_cause_without_entries():
    got, truth = np.array([[0.1234, 0.5678], [0.9012, 0.3456]]), np.ones((2, 2))
    plain = compare(2 * truth, truth, name="F1")
    with hidden_inputs():
        hidden = str(plain)
        failed = compare(got, truth, name="F1")
        grad = check_vjp(lambda a: 2 * a, {"a": got}, np.ones((2, 2)), {"a": got}, name="g")
        texts = [hidden, str(failed), str(grad), grad._repr_html_()]
    assert "2 times too large" in hidden and "2 times too large" in str(plain)
    assert "worst entries" in str(plain) and "worst entries" not in hidden
    for text in texts:
        assert "0.1234" not in text and "0.5678" not in text and "worst entries (" not in text
    assert "worst entries" in str(grad)  # outside the context: the full report again


def test_mark_hidden_wraps_blocks_and_functions_defined_there():
    lines = hidden_line_numbers(HIDDEN_CELL)
    tree = dc.mark_hidden(ast.parse(HIDDEN_CELL), lines)
    blocks = dc.HiddenBlocks(HIDDEN_CELL)
    seen: list[bool] = []

    def f(v):
        from nnhelpers.gradcheck.report import on_hidden_inputs

        seen.append(on_hidden_inputs())
        return v + np.array([0.0, 0.0, 0.3141])

    namespace = {dc.HIDDEN_NAME: blocks, "compare": compare, "f": f}
    try:
        exec(compile(tree, "<test t>", "exec"), namespace)
    except AssertionError as err:
        message = str(err)
    assert blocks.raised and seen == [True]  # f ran inside the hidden block
    assert "f on hidden x" in message and "0.3141" not in message
    # the helper, defined in the hidden block and called from a visible line, is hidden too
    visible_call = "helper(np.ones(3) * 7)\n"
    namespace.update(np=np, x=np.ones(3))
    blocks.reset()
    try:
        exec(compile(visible_call, "<test t>", "exec"), namespace)
    except AssertionError as err:
        message = str(err)
    assert blocks.raised and "worst entries" not in message
    calls = sorted(n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call))
    original = sorted(n.lineno for n in ast.walk(ast.parse(HIDDEN_CELL)) if isinstance(n, ast.Call))
    assert set(original) <= set(calls)  # the cell's calls keep their lines (tracebacks)
    assert dc.mark_hidden(ast.parse("x = 1\n"), set()).body[0].__class__ is ast.Assign


def test_inkernel_messages_of_hidden_tests_are_declassified():
    cell = nbformat.v4.new_code_cell(HIDDEN_CELL)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    test = prepare.test_cells(nbformat.v4.new_notebook(cells=[cell]))[0]
    report = str(compare(np.array([1.0, 2.0, 3.25]), np.array([1.0, 2.0, 3.0]), name="x"))
    executed = {"outputs": [{"output_type": "error", "ename": "GradientCheckError",
                             "evalue": report + "\nLeakName 0.314159"}]}  # fmt: skip
    message = outcome_for(test, executed, timed_out=False, hidden=True).message
    assert "3.25" not in message and "LeakName" not in message and "0.314159" not in message
    assert "1 of 3 entries differ" in message
    visible = outcome_for(test, executed, timed_out=False, hidden=False).message
    assert "3.25" in visible  # released tests (no hidden part run): the full report


LEAKY = """x = np.ones(2)
### BEGIN HIDDEN TESTS
x = secret_input()
def helper(v):
    return v
### END HIDDEN TESTS
compare(f(x), helper(x), name="a visible check on a hidden input").raise_if_failed()
x = np.zeros(2)
compare(f(x), x, name="visible again").raise_if_failed()
"""


def test_visible_lines_never_check_values_computed_in_hidden_blocks():
    """A visible line is not marked, so a check there on a hidden block's value would show it
    in full: the masters keep such checks inside their hidden blocks."""
    assert dc.unmarked_reads(LEAKY, hidden_line_numbers(LEAKY)) == [(7, ["x"])]
    found = {}
    for path in sorted(Path(__file__).resolve().parents[2].glob("source/*/*.ipynb")):
        for cell in prepare.read_master(path).cells:
            if not prepare.is_test_cell(cell):
                continue
            reads = dc.unmarked_reads(cell.source, hidden_line_numbers(cell.source))
            if reads:
                found[f"{path.stem}/{prepare.nbgrader_meta(cell)['grade_id']}"] = reads
    assert found == {}
