"""Confidentiality after hidden tests (issue 13): nothing hidden calls did reaches feedback.

The `leak_*` attacks of tests/adversarial/attacks.py log what their graded function is given
(hidden inputs included), in a global, a closure, a file in /tmp or the home, shared memory or
an fd made before, a pipe, an eventfd, or the kernel's signals, nice value and limits, and show
the log later: printed, as a value, a display, an error, a file read back, the text of an error
raised inside a later visible test, or a value a later visible test's message quotes. Each is
graded by the isolated executor, saved as autograde saves it and rendered by `nngrade feedback`;
the marker and the hidden probe's values must appear in none of the record, the graded copy or
the page, while the student keeps the points earned and the tests' own messages. Hidden calls
run in a throw-away copy of the kernel, so the later cells' outputs are shown (the log is
empty); an attack that leaves a thread or process running makes the kernel refuse the copy,
and then those outputs are withheld.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from adv_master import ASSIGNMENT, master
from attacks import ATTACKS
from harness import LIMITS, make_course, new_token
from nngrade.commands.feedback import page_text, write_feedback
from nngrade.grading import config, records
from nngrade.grading.redact import WITHHELD
from nngrade.sandbox.isolated import grade_notebook
from nngrade.sandbox.launcher import detect
from simulate import reference

pytestmark = pytest.mark.slow
LEAKS = [a for a in ATTACKS if a.name.startswith("leak_log")]
PROBE = "7.0]]"  # the end of test_double's hidden 2x2 input, [[3.0, 0.5], [-1.0, 7.0]]


@pytest.fixture(scope="module")
def course():
    course = make_course(gradebook=False)
    yield course
    course.close()


def _grade_and_render(course, student: str, nb: nbformat.NotebookNode):
    path = course.submission(student)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    report = grade_notebook(path, course.master, assignment=ASSIGNMENT, limits=LIMITS)
    settings = config.load(course.config_dir)
    records.save(
        settings.autograded,
        student,
        ASSIGNMENT,
        ASSIGNMENT,
        "k",
        report,
        "isolated",
        master=course.master,
    )
    graded = records.paths(settings.autograded, student, ASSIGNMENT, ASSIGNMENT)[0]
    pages = {p.parts[-3]: p for p in write_feedback(settings, ASSIGNMENT)}
    return report, graded.read_text(encoding="utf-8"), pages[student].read_text("utf-8")


@pytest.mark.skipif(detect(False).mode != "namespaces", reason="needs the namespace sandbox")
@pytest.mark.parametrize("attack", LEAKS, ids=[a.name for a in LEAKS])
def test_nothing_after_a_hidden_test_reaches_feedback(course, attack):
    nb = attack.notebook(master(), **course.context(new_token(attack.name)))
    report, graded, page = _grade_and_render(course, attack.name, nb)
    assert report.status == "graded", report.reason
    shown = {
        "record": json.dumps(report.to_json()),
        "graded copy": graded,
        "feedback page": page_text(page),
    }
    for where, text in shown.items():
        assert attack.forbidden_text not in text, f"{attack.name}: the log reached the {where}"
        assert PROBE not in text, f"{attack.name}: a hidden input reached the {where}"
    scores = {t.grade_id: t.score for t in report.tests}
    assert scores["test_double"] == 2.0 and scores["test_softmax"] == 3.0, scores
    text = page_text(page)
    if attack.hidden_calls == "refused":  # a thread or process left running: withheld
        assert WITHHELD in text and "could not run in a throw-away copy" in text
        assert not any(t.isolated for t in report.tests)
    else:  # every hidden call ran in a copy: later outputs are the student's to see
        assert all(t.isolated for t in report.tests if t.hidden), report.tests
        assert WITHHELD not in text
        if attack.tail:
            assert "clean" in text, f"{attack.name}: the later cells' outputs are not shown"


def test_old_graded_copies_are_withheld_at_render_time(course):
    """A graded copy made before the rule (or by the in-kernel executor) that holds a later
    cell's output is cut when the page is rendered, from the record's hidden flags."""
    settings = config.load(course.config_dir)
    nb = reference(master())
    before = nbformat.v4.new_code_cell("print('early')")
    before.outputs = [nbformat.v4.new_output("stream", name="stdout", text="EARLY output\n")]
    after = nbformat.v4.new_code_cell("print(LOG)")
    after.outputs = [nbformat.v4.new_output("stream", name="stdout", text="LEAK [[3.0]]\n")]
    nb.cells.insert(2, before)
    nb.cells.append(after)
    from nngrade.grading.results import GradeReport, TestOutcome

    tests = [
        TestOutcome("test_double", 2.0, 2.0, "passed", "", True),
        TestOutcome("test_softmax", 3.0, 3.0, "passed", "", True),
        TestOutcome("test_noise", 1.0, 1.0, "passed", "", True),
    ]
    report = GradeReport(ASSIGNMENT, "olga", "graded", "", tests, nb)
    records.save(
        settings.autograded,
        "olga",
        ASSIGNMENT,
        ASSIGNMENT,
        "k",
        report,
        "inkernel",
        master=course.master,
    )
    pages = {p.parts[-3]: p for p in write_feedback(settings, ASSIGNMENT)}
    text = page_text(pages["olga"].read_text(encoding="utf-8"))
    assert "EARLY output" in text  # before the first hidden test: shown
    assert "LEAK" not in text and WITHHELD in text


@pytest.mark.parametrize("isolated", [True, False, None])
def test_render_time_rule_follows_the_isolated_flags(course, isolated):
    """`nngrade feedback` withholds later outputs only after a hidden test whose calls ran in
    the kernel itself: `isolated` true keeps them, false or missing (an older record) cuts."""
    settings = config.load(course.config_dir)
    nb = reference(master())
    after = nbformat.v4.new_code_cell("print('late')")
    after.outputs = [nbformat.v4.new_output("stream", name="stdout", text="LATE output\n")]
    nb.cells.append(after)
    from nngrade.grading.results import GradeReport, TestOutcome

    tests = [
        TestOutcome(g, p, p, "passed", "", True, bool(isolated))
        for g, p in (("test_double", 2.0), ("test_softmax", 3.0), ("test_noise", 1.0))
    ]
    student = f"flag-{isolated}"
    report = GradeReport(ASSIGNMENT, student, "graded", "", tests, nb)
    record = records.save(
        settings.autograded, student, ASSIGNMENT, ASSIGNMENT, "k", report, "isolated",
        master=course.master,
    )  # fmt: skip
    if isolated is None:  # a record written before the flag existed
        data = json.loads(record.read_text(encoding="utf-8"))
        for entry in data["tests"]:
            del entry["isolated"]
        record.write_text(json.dumps(data), encoding="utf-8")
    pages = {p.parts[-3]: p for p in write_feedback(settings, ASSIGNMENT)}
    text = page_text(pages[student].read_text(encoding="utf-8"))
    assert ("LATE output" in text) is bool(isolated)
    assert (WITHHELD in text) is not bool(isolated)
