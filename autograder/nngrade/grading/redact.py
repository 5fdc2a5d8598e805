"""Turn executed test cells into student-safe outcomes and redact hidden tests from notebooks.

The rule: hidden-test source and traceback lines never leave the grader. A hidden test cell keeps
only its visible part, and its outputs are replaced by one line: the status and the message the
test wrote for students (exception name and text), with any line that quotes hidden code removed.
"""

from __future__ import annotations

import copy
import re

import nbformat

from nngrade.grading.declassify import declassify
from nngrade.grading.markers import flat, quoted_secrets
from nngrade.grading.prepare import TestCell
from nngrade.grading.results import TestOutcome

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FAILED_NAMES = {"AssertionError", "GradientCheckError"}
MAX_TEXT_OUTPUT = 20_000  # characters kept of one text output in the graded copy


def sanitize(message: str, hidden_lines: list[str]) -> str:
    """Drop every message line that quotes a secret line of hidden test code."""
    secrets = {flat(line): line for line in hidden_lines}
    kept = [
        line for line in ANSI.sub("", message).splitlines() if not quoted_secrets(line, secrets)
    ]
    return "\n".join(kept).strip()


def _error_output(cell: nbformat.NotebookNode) -> dict | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output
    return None


def _friendly(ename: str, evalue: str) -> str:
    if ename == "NotImplementedError":
        return "not answered yet: the function still raises NotImplementedError"
    if ename == "NameError":
        return (
            f"NameError: {evalue} (the answer cell did not define it, or stopped with an error "
            "before defining it)"
        )
    return f"{ename}: {evalue}" if evalue else ename


def outcome_for(
    test: TestCell, cell: nbformat.NotebookNode, *, timed_out: bool, hidden: bool
) -> TestOutcome:
    """Score one executed test cell: passed, failed (assertion), error, or timeout."""
    is_hidden = test.hidden and hidden
    error = _error_output(cell)
    if timed_out:
        ename = "TimeoutError"
        evalue = (error or {}).get("evalue", "the cell ran too long and was interrupted")
        return TestOutcome(
            test.grade_id, 0.0, test.points, "timeout", f"{ename}: {evalue}", is_hidden
        )
    if error is None:
        return TestOutcome(test.grade_id, test.points, test.points, "passed", "", is_hidden)
    ename, evalue = error.get("ename", "Error"), error.get("evalue", "")
    status = "failed" if ename in FAILED_NAMES or ename.endswith("AssertionError") else "error"
    message = _friendly(ename, evalue)
    if is_hidden:
        message = sanitize(message, test.hidden_lines) or (
            f"{ename} in a hidden test (its message quoted test code, so it is not shown)"
        )
        if status == "failed" and not evalue.strip():
            message = "a hidden test failed (it gave no message)"
        # the kernel cannot say which block failed: the whole message is declassified
        message = declassify(message, test.master_text or test.visible_source)
    return TestOutcome(test.grade_id, 0.0, test.points, status, message, is_hidden)


def _cap(output: dict) -> dict:
    text = output.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_OUTPUT:
        cut = len(text) - MAX_TEXT_OUTPUT
        output["text"] = text[:MAX_TEXT_OUTPUT] + f"\n... [{cut} characters cut]\n"
    return output


def redact(
    notebook: nbformat.NotebookNode, tests: list[TestCell], outcomes: list[TestOutcome]
) -> nbformat.NotebookNode:
    """A copy of the executed notebook that is safe to return to the student."""
    nb = copy.deepcopy(notebook)
    by_id = {t.grade_id: t for t in tests}
    unisolated = {o.grade_id for o in outcomes if o.hidden and not o.isolated}
    withhold_after_hidden(nb, set(by_id), unisolated)
    result = {o.grade_id: o for o in outcomes}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [_cap(o) for o in cell.get("outputs", [])]
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        test = by_id.get(grade_id)
        if test is None or not test.hidden:
            continue
        cell.source = test.visible_source
        outcome = result.get(grade_id)
        line = f"[{outcome.status}] {outcome.message}".rstrip() if outcome else "[not-run]"
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=line + "\n")]
    return nb


WITHHELD = (
    "[output not shown: this cell ran after hidden tests had called your functions, so it "
    "could show their inputs]"
)


def withhold_after_hidden(
    nb: nbformat.NotebookNode, test_ids: set[str], hidden_ids: set[str]
) -> int:
    """Replace the outputs of every non-test code cell that comes after the first test of
    `hidden_ids` (in place); returns how many cells had outputs withheld.

    `hidden_ids` are the tests whose hidden calls ran in the kernel itself; a test whose
    hidden calls ran in a throw-away copy (`TestOutcome.isolated`) is left out by callers.

    Confidentiality rule: once a hidden test has called student code, that code may have kept
    the hidden inputs (a global log, a closure), and any later student cell could print them.
    Test cells are judged by the grader, which keeps student prints and error texts out of
    their outputs from that point on (see sandbox/isolated.py)."""
    seen_hidden, withheld = False, 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in hidden_ids:
            seen_hidden = True
            continue
        if not seen_hidden or grade_id in test_ids or not cell.get("outputs"):
            continue
        if [o.get("text") for o in cell.outputs] == [WITHHELD + "\n"]:
            continue
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=WITHHELD + "\n")]
        withheld += 1
    return withheld


def renumber(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Give every execute result its cell's number, so "Out[n]" always sits beside "In [n]"
    (a kernel's own count can differ from the grader's, which also counts test cells)."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "execute_result":
                output["execution_count"] = cell.get("execution_count")
    return nb
