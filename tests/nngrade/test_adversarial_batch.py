"""The batch attacks of tests/adversarial/batch_attacks.py against the class pipeline.

Every batch command must handle each student in isolation: an attack becomes that student's
status with a reason, never an abort, and never a lost or wrong record for anyone else. Fast
(no notebook is executed): records are written as autograde writes them, then feedback,
report and export run on the whole class; collect and autograde's plan see the file attacks.
"""

from __future__ import annotations

import csv
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import nbformat
import pytest
from adv_master import ASSIGNMENT, master
from batch_attacks import FILE_ATTACKS, FORMULA_IDS, HIDDEN_LINE, RECORD_ATTACKS, TERMINAL_ID
from harness import make_course
from nngrade.commands import autograde
from nngrade.commands.collect import collect
from nngrade.commands.export import export_csv
from nngrade.commands.feedback import page_text, write_feedback
from nngrade.commands.report import write_report
from nngrade.grading import config, records
from nngrade.grading.gradebook import open_gradebook, record, sync_assignment
from nngrade.grading.results import GradeReport, Limits, TestOutcome
from nngrade.grading.worker import Task, grade_task
from pool_fakes import grade_or_die
from simulate import reference


@pytest.fixture
def course():
    course = make_course(gradebook=False)
    yield course
    course.close()


def _report(student: str, nb, reason: str = "") -> GradeReport:
    status = "could-not-grade" if reason else "graded"
    tests = [] if reason else [TestOutcome("test_double", 2.0, 2.0, "passed", "", True)]
    return GradeReport(ASSIGNMENT, student, status, reason, tests, None if reason else nb)


def test_record_attacks_every_command_finishes_per_student(course):
    settings = config.load(course.config_dir)
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:
        sync_assignment(gb, ASSIGNMENT, settings.masters(ASSIGNMENT))
        students = ["alice"] + [a.name for a in RECORD_ATTACKS]
        for attack in [None, *RECORD_ATTACKS]:
            nb = reference(master())
            if attack:
                attack.edit(nb)
            student = attack.name if attack else "alice"
            report = _report(student, nb, attack.reason if attack else "")
            autograde._bound(report)
            records.save(
                settings.autograded,
                student,
                ASSIGNMENT,
                ASSIGNMENT,
                "k",
                report,
                "x",
                master=course.master,
            )
            graded = records.paths(settings.autograded, student, ASSIGNMENT, ASSIGNMENT)[0]
            assert report.notebook is None or graded.stat().st_size > 0, student
            record(gb, ASSIGNMENT, student, ASSIGNMENT, report)
    finally:
        gb.close()

    pages = {
        p.parts[-3]: p.read_text(encoding="utf-8") for p in write_feedback(settings, ASSIGNMENT)
    }
    assert sorted(pages) == sorted(students)
    for student, page in pages.items():
        assert len(page) < 2_000_000, student  # the 5 MB reason is capped
        if student in ("alice", "honest_mention", "lone_surrogate"):
            assert "not shown on this page" not in page, student  # the notebook is there
            assert "def double" in page_text(page), student
    assert HIDDEN_LINE in page_text(pages["honest_mention"])  # prose quoting a line: kept

    report_page = write_report(settings, ASSIGNMENT).read_text(encoding="utf-8")
    assert len(report_page) < 2_000_000 and "huge_reason" in report_page

    rows = export_csv(settings, ASSIGNMENT, course.root / "grades.csv")
    assert rows == len(students)
    with (course.root / "grades.csv").open(encoding="utf-8") as handle:
        table = {row["student"]: row for row in csv.DictReader(handle)}
    assert table["alice"]["status"] == "graded"
    assert len(table["huge_reason"]["reason"]) < 5000


def test_hidden_line_as_a_whole_is_redacted_not_aborting(course):
    settings = config.load(course.config_dir)
    nb = reference(master())
    nb.cells.append(nbformat.v4.new_code_cell("x = 1\n" + HIDDEN_LINE + "\ny = 2"))
    records.save(
        settings.autograded,
        "eve",
        ASSIGNMENT,
        ASSIGNMENT,
        "k",
        _report("eve", nb),
        "x",
        master=course.master,
    )
    (page,) = write_feedback(settings, ASSIGNMENT)
    text = page_text(page.read_text(encoding="utf-8"))
    assert HIDDEN_LINE not in text and "hidden test line removed" in text
    assert "def double" in text  # the rest of the notebook is shown


@pytest.mark.parametrize("attack", FILE_ATTACKS, ids=lambda a: a.name)
def test_file_attacks_collect_and_plan(course, attack, tmp_path):
    settings = config.load(course.config_dir)
    inbox = tmp_path / "inbox"
    for student in ("zed", "mallory"):
        (inbox / student / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(reference(master()), str(inbox / "zed" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    attack.plant(inbox / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", course.master)
    result = collect(inbox, ASSIGNMENT, settings)
    assert result.imported == [f"zed/{ASSIGNMENT}"], result.describe()
    assert any("mallory" in p or "link" in p for p in result.problems), result.describe()
    assert not (settings.submitted / "mallory").exists()

    # the same file planted straight in submitted/: plan() never reads it, grading says why
    target = settings.submitted / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True)
    attack.plant(target, course.master)
    tasks, _ = autograde.plan(settings, ASSIGNMENT, "isolated", students=["mallory"])
    (task,) = tasks
    report = grade_task(task, ASSIGNMENT, settings.limits, "isolated")
    assert report.status == "could-not-grade" and report.reason, report
    assert report.tests == []


def test_zip_bomb_is_cut_off(course, tmp_path):
    settings = config.load(course.config_dir)
    settings.limits.max_submission_mb = 1
    bomb = tmp_path / "class.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"mallory/{ASSIGNMENT}.ipynb", b"0" * (8 * 2**20))  # ~8 KB zipped
        for honest in ("yan", "zed"):
            archive.writestr(f"{honest}/{ASSIGNMENT}.ipynb", nbformat.writes(reference(master())))
    assert bomb.stat().st_size < 100_000
    result = collect(bomb, ASSIGNMENT, settings)
    assert result.imported == [f"yan/{ASSIGNMENT}", f"zed/{ASSIGNMENT}"], result.describe()
    assert any("limit" in p for p in result.problems), result.describe()


def _spawn_pool(jobs: int, executor: str) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))


def test_worker_death_blames_only_the_crasher():
    """BrokenProcessPool with --jobs 2: the crasher alone gets a grader fault; everyone in
    flight with it is graded again and gets a real result (was: KeyError, or an honest
    student recorded "the grading worker crashed")."""
    names = ["ann", "crasher", "bo", "cy", "dee"]
    tasks = [Task(n, ASSIGNMENT, Path(n), Path("m"), "k") for n in names]
    results: dict[str, str] = {}
    pool = _spawn_pool(2, "x")
    try:
        pool, left = autograde._run_pool(
            pool,
            tasks,
            ASSIGNMENT,
            Limits(),
            "x",
            2,
            lambda task, report: results.__setitem__(task.student, report.status),
            lambda: False,
            grade=grade_or_die,
            new_pool=_spawn_pool,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert left == []
    assert results == {n: ("grader-fault" if n == "crasher" else "graded") for n in names}


def test_fifo_in_submitted_does_not_block_hash(tmp_path):
    fifo = tmp_path / "x.ipynb"
    os.mkfifo(fifo)
    assert records.file_hash(fifo) == ""  # not a regular file: never opened


def test_formula_ids_neutralised_in_both_csvs_and_terminal_text_stripped(course, capsys):
    from nngrade import cli

    settings = config.load(course.config_dir)
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:
        sync_assignment(gb, ASSIGNMENT, settings.masters(ASSIGNMENT))
        for student in FORMULA_IDS:
            report = _report(student, reference(master()), "bad notebook =1+1")
            records.save(
                settings.autograded,
                student,
                ASSIGNMENT,
                ASSIGNMENT,
                "k",
                report,
                "x",
                master=course.master,
            )
            record(gb, ASSIGNMENT, student, ASSIGNMENT, report)
    finally:
        gb.close()
    for canvas in (False, True):
        target = course.root / f"grades{canvas}.csv"
        export_csv(settings, ASSIGNMENT, target, canvas=canvas)
        with target.open(encoding="utf-8", newline="") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        for student in FORMULA_IDS:
            assert student not in cells and "'" + student in cells, (canvas, student)

    inbox = course.root / "inbox"
    (inbox / TERMINAL_ID / ASSIGNMENT).mkdir(parents=True)
    (inbox / "zed" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(reference(master()), str(inbox / "zed" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    status = cli.main(["collect", str(inbox), ASSIGNMENT, "--course", str(course.config_dir)])
    out = capsys.readouterr()
    assert status == 0
    assert "mallory" in out.out + out.err and "\x1b" not in out.out + out.err


def test_deep_and_large_json_outputs_are_capped_not_crashing():
    """A JSON output nested 100,000 deep made the caps raise RecursionError (records.save,
    so autograde) and a large one was stored whole."""
    from batch_attacks import RENDER_ATTACKS
    from nngrade.grading.caps import cap_outputs

    nb = reference(master())
    {a.name: a for a in RENDER_ATTACKS}["json_deep"].edit(nb)
    nb.cells[-1].outputs.append(
        nbformat.NotebookNode(
            output_type="display_data", metadata={}, data={"application/json": ["x" * 30_000, 1]}
        )
    )
    small = {"application/json": {"a": [1, 2]}, "text/plain": "{'a': [1, 2]}"}
    nb.cells[-1].outputs.append(
        nbformat.NotebookNode(output_type="display_data", metadata={}, data=small)
    )
    cap_outputs(nb)
    deep, large, kept = nb.cells[-1].outputs
    for output in (deep, large):
        assert "application/json" not in output["data"], output
        assert "truncated" in output["data"]["text/plain"]
    assert kept["data"]["application/json"] == {"a": [1, 2]}
