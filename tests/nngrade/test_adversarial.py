"""The attack corpus (tests/adversarial/attacks.py) graded by `nngrade check` (isolated executor).

For every attack: graded, no unearned points, finished within its limits, nothing left
running, the master/gradebook/config/other submissions untouched, no network connection, and
the honest student's grade unchanged. `test_adversarial_cli.py` grades the whole corpus as one
class with `nngrade autograde --jobs 2`.
"""

from __future__ import annotations

import io
import json
import signal
import time
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from adv_master import ASSIGNMENT, MAX_SCORE, master
from attacks import ATTACKS, Attack
from harness import HONEST, LIMITS, leftover_processes, make_course, new_token
from nbclient import NotebookClient
from nngrade import cli
from nngrade.grading.prepare import is_test_cell, nbgrader_meta, prepare
from nngrade.sandbox.isolated import grade_notebook
from nngrade.sandbox.launcher import WALL_FACTOR, detect

HERE = Path(__file__).resolve().parents[1] / "adversarial"

pytestmark = pytest.mark.slow
FULL = detect(False).mode == "namespaces"


@pytest.fixture(scope="module")
def course():
    course = make_course()
    yield course
    course.close()


@pytest.fixture(scope="module")
def contained() -> dict[str, dict]:
    """attack name -> its report, once graded and asserted contained (`contained_report`)."""
    return {}


def needs_full_sandbox(attack: Attack) -> bool:
    """Attacks that only the namespace sandbox stops (the fallback is documented as weaker)."""
    return attack.needs_namespaces or attack.group == "read" or attack.name == "network"


def run_attack(course, attack: Attack):
    """Grade the attack's notebook; return (report, seconds, token, files before)."""
    if needs_full_sandbox(attack) and not FULL:
        pytest.skip(
            f"{attack.name} needs the namespace sandbox (root + unshare); "
            f"this machine gives: {detect(False).describe()}"
        )
    token = new_token(attack.name)
    path = course.submission(attack.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(attack.notebook(master(), **course.context(token)), str(path))
    before = course.snapshot()
    started = time.monotonic()
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(["check", ASSIGNMENT, str(path), "--json", *common_flags(course)])
    seconds = time.monotonic() - started
    report = json.loads(out.getvalue())  # fake JSON printed by the student never gets here
    assert status == 0, report
    return report, seconds, token, before


def common_flags(course) -> list[str]:
    """Course and limits for the `nngrade` command line."""
    return [
        "--course",
        str(course.config_dir),
        "--executor",
        "isolated",
        "--cell-timeout",
        str(LIMITS.cell_timeout),
        "--total-timeout",
        str(LIMITS.total_timeout),
        "--memory-mb",
        str(LIMITS.memory_mb),
    ]


def assert_contained(course, attack: Attack, report, seconds: float, token: str, before) -> None:
    """What every attack run must satisfy, whatever the attack."""
    summary = [
        (t["grade_id"], t["status"], t["score"], t["message"][:120]) for t in report["tests"]
    ]
    assert report["status"] == "graded", report["reason"]
    assert report["max_score"] == MAX_SCORE, f"max score changed: {summary}"
    assert report["score"] <= attack.max_score, f"{attack.name} got unearned points: {summary}"
    # Bounded by the grader's own guarantee, not by how busy the machine is: timeouts run on the
    # sandbox's fair clock, which reaches the total timeout after WALL_FACTOR times as long in
    # wall time at most (a starved sandbox), plus starting and tearing down the sandbox.
    most = WALL_FACTOR * LIMITS.total_timeout + 120
    assert seconds < most, f"grading took {seconds:.0f} s, more than the limits allow ({most:.0f})"
    assert leftover_processes(token) == [], "processes left behind"
    assert course.snapshot() == before, "a protected file changed"
    assert course.gradebook_rows() == 1
    assert not course.canary(token).exists(), "the attack wrote outside its sandbox"
    assert not any(token.encode() in c for c in course.listener.connections), "network reached"
    if attack.forbidden_text:
        assert attack.forbidden_text not in json.dumps(report), "hidden inputs leaked"


def contained_report(course, contained: dict[str, dict], attack: Attack) -> dict:
    """The attack's report, graded and asserted contained once per module by whichever test
    needs it first: the tests that assert more about the same run reuse it."""
    if attack.name not in contained:
        report, seconds, token, before = run_attack(course, attack)
        assert_contained(course, attack, report, seconds, token, before)
        contained[attack.name] = report
    return contained[attack.name]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_contained(course, contained, attack: Attack):
    contained_report(course, contained, attack)


def test_corpus_covers_the_threat_model():
    groups = {a.group for a in ATTACKS}
    assert groups == {"points", "read", "harm", "grader"}
    assert len(ATTACKS) >= 12
    assert all(a.stopped_by and a.what for a in ATTACKS)


def test_honest_student_unaffected_by_attacks(course):
    """Grade the honest student (executor called directly) after the corpus ran: full score."""
    for student, expected in HONEST.items():
        report = grade_notebook(
            course.submission(student),
            course.master,
            assignment=ASSIGNMENT,
            limits=LIMITS,
            student=student,
        )
        assert report.status == "graded", report.reason
        assert report.score == expected, [(t.grade_id, t.message) for t in report.tests]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("infinite_loop", MAX_SCORE),  # interrupted; the tests after it still run
        ("network", MAX_SCORE),
        ("write_outside", MAX_SCORE),
        ("memory_bomb", MAX_SCORE),
    ],
)
def test_contained_attacks_keep_earned_points(course, contained, name, expected):
    """Containment is not a blanket zero: what the reference answers earned is kept (the run
    test_attack_is_contained graded, when it ran first)."""
    attack = next(a for a in ATTACKS if a.name == name)
    report = contained_report(course, contained, attack)
    assert report["score"] == expected, report["tests"]
    if name == "infinite_loop":  # the student is told why a cell produced no output
        assert any("endless loop" in note for note in report.get("notes", [])), report["notes"]


def test_loops_are_interrupted_even_when_the_grader_ignores_sigint(course):
    """A grader started in the background inherits SIGINT as ignored; cells still time out."""
    attack = next(a for a in ATTACKS if a.name == "infinite_loop")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        report, seconds, token, before = run_attack(course, attack)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert_contained(course, attack, report, seconds, token, before)
    assert report["score"] == MAX_SCORE, report["tests"]


# Attacks measured to beat grading in the student's own kernel (tests run where student code
# runs, nbgrader's way): proof that these attacks are real, not vacuously "contained".
POTENT = [
    "allclose_patched",
    "nnhelpers_patched",
    "input_transformer",
    "traceback_hooks",
    "read_master",
    "read_grader_files",
]


@pytest.mark.parametrize("name", POTENT)
def test_attack_beats_grading_in_the_students_kernel(course, name, tmp_path):
    attack = next(a for a in ATTACKS if a.name == name)
    path = tmp_path / f"{ASSIGNMENT}.ipynb"
    nbformat.write(attack.notebook(master(), **course.context(new_token(name))), str(path))
    nb = prepare(path, course.master, assignment=ASSIGNMENT).notebook  # hidden tests included
    NotebookClient(
        nb,
        timeout=LIMITS.cell_timeout * 5,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    earned = sum(
        float(nbgrader_meta(c).get("points") or 0)
        for c in nb.cells
        if is_test_cell(c) and not any(o.output_type == "error" for o in c.outputs)
    )
    assert earned > attack.max_score, f"{name} no longer fools in-kernel grading"
