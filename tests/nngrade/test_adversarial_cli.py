"""The attack corpus as one class: `nngrade autograde --jobs 2` of every attack plus two
honest students (`test_adversarial.py` runs each attack through `nngrade check`).

Asserts: no unearned points, everyone graded within the limits, nothing left running, the
gradebook intact (integrity check, every student present) and the honest students' scores the
same as when they are graded alone (test_honest_students_alone).
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from adv_master import ASSIGNMENT, master
from attacks import ATTACKS, Attack
from harness import LIMITS, leftover_processes, make_course, new_token
from nngrade import cli
from nngrade.commands.feedback import hidden_secrets, page_text
from nngrade.sandbox.isolated import grade_notebook
from nngrade.sandbox.launcher import detect
from simulate import reference, replace_in

HERE = Path(__file__).resolve().parents[1] / "adversarial"

pytestmark = pytest.mark.slow
FULL = detect(False).mode == "namespaces"
RUNNABLE = [
    a
    for a in ATTACKS
    if FULL or not (a.needs_namespaces or a.group == "read" or a.name == "network")
]
HONEST_SCORES = {"alice": 6.0, "bob": 4.0}  # bob's double is wrong (test_double: 2 points)


def nngrade(*args: str) -> tuple[int, str]:
    """Run the `nngrade` command in this process (exit status, stdout)."""
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(list(args))
    return status, out.getvalue()


def common(course) -> list[str]:
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


def write_attack(course, attack: Attack, token: str) -> Path:
    path = course.submission(attack.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(attack.notebook(master(), **course.context(token)), str(path))
    return path


def honest_class(course) -> None:
    """alice (reference answers) and bob (a wrong `double`)."""
    bob = replace_in("double", "return scale(x)", "return scale(x) + 1")
    for student, mutations in (("alice", []), ("bob", [bob])):
        path = course.submission(student)
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = reference(master())
        for mutate in mutations:
            nb = mutate(nb)
        nbformat.write(nb, str(path))


def _export(course) -> dict[str, dict[str, str]]:
    target = course.root / "grades.csv"
    status, _ = nngrade("export", ASSIGNMENT, "--csv", str(target), *common(course))
    assert status == 0
    with target.open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _autograde(course, *extra: str) -> None:
    env = dict(os.environ, PYTHONPATH="")
    command = [
        sys.executable,
        "-m",
        "nngrade.cli",
        "autograde",
        ASSIGNMENT,
        "--jobs",
        "2",
        "--no-progress",
        *common(course),
        *extra,
    ]
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=len(ATTACKS) * (LIMITS.total_timeout + 30),
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_nngrade_autograde_class_of_attackers():
    course = make_course(gradebook=False)
    try:
        honest_class(course)
        tokens = {a.name: new_token(a.name) for a in RUNNABLE}
        for attack in RUNNABLE:
            write_attack(course, attack, tokens[attack.name])
        protected = {
            p: p.read_bytes()
            for p in (
                course.master,
                course.submission("alice"),
                course.config_dir / "nbgrader_config.py",
            )
        }
        _autograde(course)
        grades = _export(course)

        for attack in RUNNABLE:
            row = grades[attack.name]
            assert row["status"] == "graded", row
            assert float(row["total"]) <= attack.max_score, (attack.name, row)
            assert leftover_processes(tokens[attack.name]) == [], attack.name
            assert not course.canary(tokens[attack.name]).exists()
        for student, score in HONEST_SCORES.items():
            assert float(grades[student]["total"]) == score, student
        assert {p: p.read_bytes() for p in protected} == protected
        with sqlite3.connect(course.gradebook) as db:
            assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert set(grades) >= {a.name for a in RUNNABLE} | set(HONEST_SCORES)
        status, out = nngrade("feedback", ASSIGNMENT, *common(course))  # refuses to leak
        assert status == 0, out
        pages = list((course.root / "course" / "feedback").rglob("*.html"))
        assert len(pages) >= len(RUNNABLE) + len(HONEST_SCORES)
        secrets = hidden_secrets([course.master])  # whole lines of the hidden tests
        assert any("secret_probe = np.array" in line for line in secrets)
        leaked = [
            (p.parent.name, line)
            for p in pages
            for line in secrets
            if line in page_text(p.read_text())
        ]
        assert leaked == []
    finally:
        course.close()


def test_honest_students_alone():
    """The scores the honest students must keep inside a class of attackers."""
    course = make_course()
    try:
        honest_class(course)
        for student, score in HONEST_SCORES.items():
            report = grade_notebook(
                course.submission(student),
                course.master,
                assignment=ASSIGNMENT,
                limits=LIMITS,
                student=student,
            )
            assert report.score == score, [(t.grade_id, t.message) for t in report.tests]
    finally:
        course.close()
