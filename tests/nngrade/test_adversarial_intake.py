"""The intake attacks of tests/adversarial/intake_attacks.py: hostile notebooks, class zips
and student folder names against `nngrade collect` and the reading of a submission.

Each becomes that student's status (or a collect problem) naming the problem; nothing raises,
nothing lands outside the course, and the honest students beside it are imported and read.
Fast: no notebook is executed (a refused notebook never reaches the sandbox; an accepted one
is checked as prepared, and graded in the class run of test_adversarial_cli.py).
"""

from __future__ import annotations

import io
import json
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest
from adv_master import ASSIGNMENT, master
from harness import make_course
from intake_attacks import ID_ATTACKS, NOTEBOOK_ATTACKS, TWINS, ZIP_ATTACKS
from nngrade import cli
from nngrade.commands import collect as collect_module
from nngrade.commands.collect import collect
from nngrade.grading import config
from nngrade.grading.prepare import SubmissionError, prepare
from nngrade.grading.safe_text import TERMINAL_CONTROL
from nngrade.grading.worker import Task, grade_task
from simulate import reference


@pytest.fixture
def course():
    course = make_course(gradebook=False)
    yield course
    course.close()


def _honest() -> bytes:
    return nbformat.writes(reference(master())).encode()


@pytest.mark.parametrize("attack", NOTEBOOK_ATTACKS, ids=lambda a: a.name)
def test_notebook_attack_is_read_or_refused_with_its_reason(course, attack, tmp_path):
    path = tmp_path / f"{ASSIGNMENT}.ipynb"
    path.write_bytes(attack.build(json.loads(_honest())))
    if not attack.refused:
        prepared = prepare(path, course.master, assignment=ASSIGNMENT)
        sources = "\n".join(c.source for c in prepared.notebook.cells)
        assert "return scale(x)" in sources and "secret_probe" in sources  # answers + tests
        assert all(not c.get("outputs") for c in prepared.notebook.cells)
        return
    with pytest.raises(SubmissionError, match=None) as err:
        prepare(path, course.master, assignment=ASSIGNMENT)
    assert attack.refused in str(err.value), str(err.value)
    # through the worker: the student's status with that reason, not a grader fault
    settings = config.load(course.config_dir)
    task = Task("mallory", ASSIGNMENT, path, course.master, "k")
    report = grade_task(task, ASSIGNMENT, settings.limits, "isolated")
    assert report.status == "could-not-grade" and attack.refused in report.reason, report.reason


def _class_zip(target: Path, attack=None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for honest in ("yan", "zed"):
            archive.writestr(f"{honest}/{ASSIGNMENT}.ipynb", _honest())
        if attack is not None:
            attack.write(archive, _honest())
    if attack is not None and attack.after is not None:
        attack.after(target)
    return target


@pytest.mark.parametrize("attack", ZIP_ATTACKS, ids=lambda a: a.name)
def test_zip_attack_member_left_out_and_named(course, attack, tmp_path):
    settings = config.load(course.config_dir)
    source = _class_zip(tmp_path / "class.zip", attack)
    result = collect(source, ASSIGNMENT, settings)
    assert result.imported == [f"yan/{ASSIGNMENT}", f"zed/{ASSIGNMENT}"], result.describe()
    assert any(attack.member in p for p in result.problems), result.describe()
    assert sorted(p.name for p in settings.submitted.iterdir()) == ["alice", "yan", "zed"]
    for escaped in ("escaped", "escaped2", "escaped3"):
        assert not (tmp_path / escaped).exists() and not (Path("/tmp") / escaped).exists()
    assert not Path("/tmp/nngrade-abs").exists()


def test_unreadable_zip_is_a_problem_not_a_crash(course, tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_ZIP_MEMBERS", 2)
    source = _class_zip(tmp_path / "class.zip", ZIP_ATTACKS[0])
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(["collect", str(source), ASSIGNMENT, "--course", str(course.config_dir)])
    assert status == 1 and "over 2" in out.getvalue(), out.getvalue() + err.getvalue()
    assert "nothing was imported" in err.getvalue()


def _inbox(root: Path, names: list[str]) -> Path:
    inbox = root / "inbox"
    for name in [*names, "zed"]:
        folder = inbox / name / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_bytes(_honest())
    return inbox


def test_student_ids_with_controls_or_overlong_refused(course, tmp_path):
    settings = config.load(course.config_dir)
    inbox = _inbox(tmp_path, list(ID_ATTACKS.values()))
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(["collect", str(inbox), ASSIGNMENT, "--course", str(course.config_dir)])
    printed = out.getvalue()
    assert status == 0
    assert sorted(p.name for p in settings.submitted.iterdir()) == ["alice", "zed"], printed
    problems = [line for line in printed.splitlines() if "PROBLEM" in line]
    assert len(problems) == len(ID_ATTACKS), printed
    assert all("not imported" in line for line in problems), printed
    assert not TERMINAL_CONTROL.search(printed) and "\r" not in printed and "\u202e" not in printed


def test_student_id_twins_refused_both(course, tmp_path):
    settings = config.load(course.config_dir)
    names = [name for pair in TWINS for name in pair] + ["ALICE"]  # alice is already collected
    result = collect(_inbox(tmp_path, names), ASSIGNMENT, settings)
    assert result.imported == [f"zed/{ASSIGNMENT}"], result.describe()
    assert sum("same id as" in p for p in result.problems) == len(names), result.describe()


def test_files_that_change_or_vanish_during_collect(course, tmp_path, monkeypatch):
    settings = config.load(course.config_dir)
    settings.limits.max_submission_mb = 1
    inbox = _inbox(tmp_path, ["grower", "vanisher"])
    checked = collect_module.submission_problem

    def then_change(path, max_mb):  # the check passes, then the file changes under collect
        problem = checked(path, max_mb)
        if "grower" in str(path):
            with path.open("ab") as handle:
                handle.write(b" " * (3 * 2**20))
        if "vanisher" in str(path):
            path.unlink()
        return problem

    monkeypatch.setattr(collect_module, "submission_problem", then_change)
    result = collect(inbox, ASSIGNMENT, settings)
    assert result.imported == [f"zed/{ASSIGNMENT}"], result.describe()
    assert any("grower" in p and "grew over" in p for p in result.problems), result.describe()
    assert any("vanisher" in p for p in result.problems), result.describe()
    assert not (settings.submitted / "grower").exists() or not any(
        (settings.submitted / "grower").rglob("*.ipynb")
    )


def test_printed_student_text_cannot_fake_lines(course):
    """An id planted straight in submitted/ (collect refuses it) with a newline and a bidi
    override: `nngrade feedback` prints its page's path as one line, controls escaped."""
    from nngrade.grading import records
    from nngrade.grading.results import GradeReport, TestOutcome

    settings = config.load(course.config_dir)
    student = "mallory\nFAKE: 0 feedback pages\u202e"
    tests = [TestOutcome("test_double", 2.0, 2.0, "passed", "", True)]
    report = GradeReport(ASSIGNMENT, student, "graded", "", tests, reference(master()))
    records.save(
        settings.autograded, student, ASSIGNMENT, ASSIGNMENT, "k", report, "x",
        master=course.master,
    )  # fmt: skip
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(
            ["feedback", ASSIGNMENT, "--course", str(course.config_dir), "--no-exchange"]
        )
    assert status == 0
    lines = out.getvalue().splitlines()
    assert not any(line.startswith("FAKE") for line in lines), lines
    assert any("mallory\\nFAKE" in line and "\\u202e" in line for line in lines), lines
