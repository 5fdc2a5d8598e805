"""The attack corpus as one class: `nngrade collect`, `autograde --jobs 2`, `feedback`,
`export` and `report` of every attack (attacks.py and batch_attacks.py) plus two honest
students (`test_adversarial.py` runs each attack through `nngrade check`).

Asserts: no unearned points, everyone graded within the limits, nothing left running, the
gradebook intact (integrity check, every student present) and the honest students' scores the
same as when they are graded alone (test_honest_students_alone).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from adv_master import ASSIGNMENT, master
from attacks import ATTACKS
from batch_attacks import FILE_ATTACKS, FORMULA_IDS, HIDDEN_LINE, RECORD_ATTACKS, TERMINAL_ID
from harness import LIMITS, leftover_processes, make_course, new_token
from intake_attacks import ID_ATTACKS, NOTEBOOK_ATTACKS
from nngrade import cli
from nngrade.commands.feedback import hidden_secrets, page_text
from nngrade.grading.intake import student_id_problem
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


def _inbox_class(course, tokens: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A class folder for `nngrade collect`: the honest students, every attack of both
    corpora (notebook attacks, batch record attacks that are notebooks, file attacks) and
    student ids built to trick a spreadsheet or a terminal. Returns (folder, {student: kind})."""
    inbox = course.root / "inbox"
    kinds: dict[str, str] = {}

    def put(student: str, nb, kind: str) -> None:
        path = inbox / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb, indent=1))  # ASCII: a lone surrogate stays escaped
        kinds[student] = kind

    bob = replace_in("double", "return scale(x)", "return scale(x) + 1")
    put("alice", reference(master()), "honest")
    put("bob", bob(reference(master())), "honest")
    for attack in RUNNABLE:
        put(attack.name, attack.notebook(master(), **course.context(tokens[attack.name])), "attack")
    for attack in RECORD_ATTACKS:
        if not attack.reason:  # the others are records, not submissions (test_adversarial_batch)
            nb = reference(master())
            attack.edit(nb)
            put(attack.name, nb, "earned")
    for student in dict.fromkeys([*FORMULA_IDS, TERMINAL_ID, *ID_ATTACKS.values()]):
        if "/" not in student:  # a folder name; ids with controls are refused at collect
            refused = student_id_problem(student)
            put(student, reference(master()), "refused at collect" if refused else "earned")
    honest = json.loads(nbformat.writes(reference(master())))
    for attack in NOTEBOOK_ATTACKS:  # intake: read as the honest notebook, or refused
        student = f"intake_{attack.name}"  # attacks.py has names of its own
        path = inbox / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(attack.build(honest))
        kinds[student] = "could not grade" if attack.refused else "earned"
    for attack in FILE_ATTACKS:
        path = inbox / attack.name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        attack.plant(path, course.master)
        kinds[attack.name] = "refused at collect"
    return inbox, kinds


def test_nngrade_class_run_of_every_attack():
    """Issue 13's done-when: honest students in a class holding every attack of the corpus
    (tests/adversarial: attacks.py and batch_attacks.py). collect, autograde --jobs 2,
    feedback, export and report each exit 0; every student has a status (with a reason when
    not graded); no attack earns unearned points; the honest scores equal their solo scores
    (test_honest_students_alone); nothing is left running, nothing protected changes."""
    course = make_course(gradebook=False)
    try:
        shutil.rmtree(course.root / "course" / "submitted")
        tokens = {a.name: new_token(a.name) for a in RUNNABLE}
        inbox, kinds = _inbox_class(course, tokens)
        protected = {
            p: p.read_bytes() for p in (course.master, course.config_dir / "nbgrader_config.py")
        }
        status, out = nngrade("collect", str(inbox), ASSIGNMENT, *common(course))
        assert status == 0, out
        for attack in FILE_ATTACKS:  # each named, with its reason, and not imported
            assert any(attack.name in line for line in out.splitlines() if "PROBLEM" in line), out
        # ... and the same files planted straight in submitted/ must not stop autograde
        for attack in FILE_ATTACKS:
            planted = f"{attack.name}_planted"
            target = course.submission(planted)
            target.parent.mkdir(parents=True)
            attack.plant(target, course.master)
            kinds[planted] = "planted"
        _autograde(course)
        status, out = nngrade("feedback", ASSIGNMENT, *common(course))
        assert status == 0, out
        grades = _export(course)
        status, out = nngrade("report", ASSIGNMENT, *common(course))
        assert status == 0, out

        def row(student: str) -> dict[str, str]:  # ids are neutralised in the CSV
            for key in (student, "'" + student):
                if key in grades:
                    return grades[key]
            matches = [r for k, r in grades.items() if k.endswith(student[-7:])]
            assert len(matches) == 1, (student, sorted(grades))
            return matches[0]

        for student, kind in kinds.items():
            if kind == "refused at collect":
                assert not (course.root / "course" / "submitted" / student).exists(), student
                continue
            entry = row(student)
            assert entry["status"] in ("graded", "could-not-grade", "grader-fault"), entry
            if entry["status"] != "graded":
                assert entry["reason"].strip(), entry
            if kind in ("planted", "could not grade"):
                assert entry["status"] == "could-not-grade", entry
            if kind == "earned":
                assert entry["status"] == "graded" and float(entry["total"]) == 6.0, entry
        for attack in RUNNABLE:
            entry = row(attack.name)
            assert entry["status"] == "graded", entry
            assert float(entry["total"]) <= attack.max_score, (attack.name, entry)
            assert leftover_processes(tokens[attack.name]) == [], attack.name
            assert not course.canary(tokens[attack.name]).exists()
        for student, score in HONEST_SCORES.items():
            assert float(row(student)["total"]) == score, student
        assert {p: p.read_bytes() for p in protected} == protected
        with sqlite3.connect(course.gradebook) as db:
            assert db.execute("pragma integrity_check").fetchone()[0] == "ok"

        pages = list((course.root / "course" / "feedback").rglob("*.html"))
        graded = [s for s, k in kinds.items() if k != "refused at collect"]
        assert len(pages) >= len(graded)
        secrets = hidden_secrets([course.master])  # whole lines of the hidden tests
        assert any("secret_probe = np.array" in line for line in secrets)

        def own_text(page: Path) -> str:  # what the student wrote (honest_mention quotes one)
            submitted = course.submission(page.parents[1].name)
            return submitted.read_text() if submitted.is_file() else ""

        leaked = [
            (p.parents[1].name, line)
            for p in pages
            for line in secrets
            if line in page_text(p.read_text()) and line not in own_text(p)
        ]
        assert leaked == []
        assert HIDDEN_LINE in course.submission("honest_mention").read_text()
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
