"""`nngrade autograde`: grade every submitted student with a few long-lived worker processes.

Why this shape (measured with nbgrader 0.9.6 on 2 cores): each nbgrader process pays ~3 s of
start-up, so N workers are spawned once (and warm up while the parent prepares the gradebook)
and each grades many submissions; parallel kernels collide on TCP ports, so every kernel uses
IPC sockets in its worker's own folder; a second busy process slows multi-threaded BLAS ~4x, so
kernels get one BLAS thread. Workers only grade; the parent writes every result (files, then
the SQLite gradebook) one at a time, as it arrives, so an interrupted run loses nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from nngrade.grading import executors, records
from nngrade.grading.config import Settings
from nngrade.grading.intake import submission_problem
from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.results import (
    COULD_NOT_GRADE,
    GRADED,
    GRADER_FAULT,
    GradeReport,
    GraderFault,
    Limits,
    grader_fault_report,
)
from nngrade.grading.safe_text import one_line
from nngrade.grading.worker import Task, grade_task, init_worker, warm_up

STOP_AFTER_FAULTS = 3  # grader faults in a row, with no real result yet, stop the run


@dataclass
class Summary:
    """What a run did."""

    graded: list[str] = field(default_factory=list)
    could_not_grade: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    grader_faults: list[tuple[str, GradeReport]] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)  # run stopped by grader faults
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (who, before, after)
    interrupted: bool = False

    def fault_lines(self) -> list[str]:
        """One line per distinct grader fault: how many, who, the diagnosis and the fix."""
        by_reason: dict[str, list[str]] = {}
        for who, report in self.grader_faults:
            by_reason.setdefault(report.reason, []).append(who)
        lines = []
        for reason, who in by_reason.items():
            shown = ", ".join(who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
            lines.append(f"grader fault ({len(who)} submissions: {shown}): {reason}")
        return lines


def outcome(record: dict | None) -> str:
    """A record's result in a few words: "3/4", "could not grade", "grader fault", "-"."""
    if not record:
        return "-"
    if record.get("status") == GRADED:
        return f"{record['score']:g}/{record['max_score']:g}"
    return str(record.get("status", "-")).replace("-", " ")


def _find_submission(
    settings: Settings, student: str, assignment: str, master: Path, n_masters: int
) -> tuple[Path, str]:
    folder = settings.submitted / student / assignment
    expected = folder / master.name
    if expected.is_file():
        return expected, ""
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if n_masters == 1 and len(found) == 1:
        return found[0], f"graded {found[0].name} (expected the name {master.name})"
    names = ", ".join(p.name for p in found) or "no notebooks"
    return expected, f"{master.name} is missing from the submission (found: {names})"


def plan(
    settings: Settings,
    assignment: str,
    executor: str,
    force: bool = False,
    students: list[str] | None = None,
) -> tuple[list[Task], list[str]]:
    """Tasks to grade, and "student/notebook" entries skipped because already graded."""
    masters = settings.masters(assignment)
    tasks, skipped = [], []
    for student in students or settings.submitted_students(assignment):
        for master in masters:
            submission, note = _find_submission(settings, student, assignment, master, len(masters))
            problem = submission_problem(
                submission, settings.limits.max_submission_mb, settings.submitted
            )
            if problem and (submission.exists() or submission.is_symlink()):
                note = problem  # graded as "could not grade" with this reason, never read
                submission = submission.parent / ".nngrade-rejected" / submission.name
            key = records.grading_key(
                submission, master, executor, settings.limits, settings.markers
            )
            old = records.load(settings.autograded, student, assignment, master.stem)
            if not force and records.reusable(old, key):
                skipped.append(f"{student}/{master.stem}")
                continue
            new = _new_in_master(settings, assignment, master, old)
            tasks.append(Task(student, master.stem, submission, master, key, note, new))
    return tasks, skipped


def _new_in_master(
    settings: Settings, assignment: str, master: Path, old: dict | None
) -> frozenset[str]:
    """Grade ids of the master that the student's copy could not have had.

    Known to the student: the cells of the master their last grading used, or else those of
    the release copy at hand. A master cell outside that set is "new in the master", not a
    cell the student deleted.
    """
    current = set(records.master_grade_ids(master))
    if old and old.get("cells"):
        known = set(old["cells"])
    elif old and old.get("tests"):
        # records of older versions list only the tests: answer cells count as known
        known = {t["grade_id"] for t in old["tests"]} | (current - _test_ids(master))
    elif (settings.release / assignment / master.name).is_file():
        known = set(records.master_grade_ids(settings.release / assignment / master.name))
    else:
        return frozenset()
    return frozenset(current - known)


def _test_ids(master: Path) -> set[str]:
    from nngrade.grading.prepare import read_master, test_cells

    return {t.grade_id for t in test_cells(read_master(master))}


def _new_pool(jobs: int, executor: str) -> ProcessPoolExecutor:
    """Spawn `jobs` workers now and let them import the executor in the background."""
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("spawn"), initializer=init_worker
    )
    for _ in range(jobs):
        pool.submit(warm_up, executor)
    return pool


def run(
    settings: Settings,
    assignment: str,
    *,
    jobs: int | None = None,
    force: bool = False,
    students: list[str] | None = None,
    progress: bool = True,
    scheduler: str | None = None,
) -> Summary:
    """Grade what needs grading; results are saved as each one finishes (resumable).

    With a Dask scheduler address (argument or `settings.scheduler`) the submissions are
    graded on that cluster (nngrade.grading.cluster); this process still writes everything.
    """
    masters = settings.masters(assignment)
    if not masters:
        raise FileNotFoundError(f"no master notebooks in {settings.source / assignment}")
    executor = settings.executor or executors.default_name()
    scheduler = scheduler or settings.scheduler
    client = None
    if scheduler:  # connect (and check versions) before anything is written
        from nngrade.grading.cluster import connect

        client = connect(scheduler)
    jobs = max(1, jobs or settings.jobs)
    summary = Summary()
    tasks, summary.skipped = plan(settings, assignment, executor, force, students)
    jobs = min(jobs, len(tasks))
    pool = _new_pool(jobs, executor) if jobs > 1 and client is None else None

    from tqdm import tqdm

    from nngrade.grading.gradebook import open_gradebook, record, sync_assignment

    gb = open_gradebook(settings.db_url, settings.course_id)
    bar = tqdm(
        total=len(tasks),
        desc=f"grading {assignment}",
        unit="nb",
        disable=not progress,
        file=sys.stderr,
    )
    try:
        sync_assignment(gb, assignment, masters)

        streak = [0]  # grader faults in a row before any real result

        def finish(task: Task, report: GradeReport) -> None:
            who = f"{task.student}/{task.notebook}"
            old = records.load(settings.autograded, task.student, assignment, task.notebook)
            if report.status == GRADER_FAULT:
                summary.grader_faults.append((who, report))
                streak[0] += 1
                if old and old.get("key") == task.key and records.reusable(old, task.key):
                    bar.update(1)  # a forced regrade failed: the real result stays
                    return
            else:
                streak[0] = -(10**9)  # the grader works: never stop early from now on
                target = summary.graded if report.status == GRADED else summary.could_not_grade
                target.append(who)
            _bound(report)
            where = (settings.autograded, task.student, assignment, task.notebook, task.key)
            try:
                records.save(*where, report, executor, master=task.master)
            except (OSError, ValueError) as err:  # e.g. an unwritable graded copy: this one only
                why = f"the graded copy could not be saved ({type(err).__name__}: {err})"
                report = GradeReport(assignment, task.student, COULD_NOT_GRADE, records.short(why))
                records.save(*where, report, executor, master=task.master)
            record(gb, assignment, task.student, task.notebook, report)
            before, after = (
                outcome(old),
                outcome(records.load(settings.autograded, task.student, assignment, task.notebook)),
            )
            if old and before != after:
                summary.changed.append((who, before, after))
            bar.set_postfix_str(f"{one_line(task.student, 60)}: {report.status}", refresh=False)
            bar.update(1)

        def stop() -> bool:
            return streak[0] >= STOP_AFTER_FAULTS

        try:
            if client is not None:
                from nngrade.grading.cluster import run_on_cluster

                left = run_on_cluster(
                    client,
                    tasks,
                    assignment,
                    settings.limits,
                    executor,
                    finish,
                    stop,
                    settings.markers,
                )
                summary.not_attempted = [f"{t.student}/{t.notebook}" for t in left]
            elif pool is None:
                for index, task in enumerate(tasks):
                    if stop():
                        summary.not_attempted = [f"{t.student}/{t.notebook}" for t in tasks[index:]]
                        break
                    finish(
                        task,
                        grade_task(task, assignment, settings.limits, executor, settings.markers),
                    )
            else:
                pool, left = _run_pool(
                    pool,
                    tasks,
                    assignment,
                    settings.limits,
                    executor,
                    jobs,
                    finish,
                    stop,
                    settings.markers,
                )
                summary.not_attempted = [f"{t.student}/{t.notebook}" for t in left]
        except KeyboardInterrupt:
            summary.interrupted = True
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if client is not None:
            client.close()
        gb.close()
    return summary


def _bound(report: GradeReport) -> None:
    """Cap the texts of a report (reason, notes, messages) and drop lone surrogates, in place:
    a 5 MB reason or an unencodable character must not reach the gradebook or any output."""
    report.reason = records.clean_text(records.short(report.reason or ""))
    report.notes = [records.clean_text(records.short(n)) for n in report.notes[:50]]
    for test in report.tests:
        test.message = records.clean_text(records.short(test.message or ""))


def _run_pool(
    pool: ProcessPoolExecutor,
    tasks: list[Task],
    assignment: str,
    limits: Limits,
    executor: str,
    jobs: int,
    finish: Callable[[Task, GradeReport], None],
    stop: Callable[[], bool],
    markers: Markers = DEFAULT,
    *,
    grade: Callable[..., GradeReport] = grade_task,
    new_pool: Callable[[int, str], ProcessPoolExecutor] = _new_pool,
) -> tuple[ProcessPoolExecutor, list[Task]]:
    """At most `jobs` tasks in flight; results handled as they arrive.

    When a worker dies, every task then in flight is a suspect: suspects are graded again one
    at a time in a fresh pool, so only a submission that kills a worker on its own is
    reported (as a grader fault); the others get their real result.
    Returns the live pool and the tasks never started (when `stop()` said so).
    """
    pending: dict[Future, Task] = {}
    queue = list(tasks)
    suspects: list[Task] = []
    while queue or pending or suspects:
        if suspects:  # graded alone: wait for what is in flight, then one suspect at a time
            if not pending and not stop():
                task = suspects.pop(0)
                pending[pool.submit(grade, task, assignment, limits, executor, markers)] = task
        else:
            while queue and len(pending) < jobs and not stop():
                task = queue.pop(0)
                pending[pool.submit(grade, task, assignment, limits, executor, markers)] = task
        if not pending:
            break
        alone = len(pending) == 1
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            task = pending.pop(future)
            try:
                report = future.result()
            except BrokenProcessPool:  # a worker died (e.g. killed by the out-of-memory killer)
                broken = True
                if not alone:
                    suspects.append(task)
                    continue
                report = grader_fault_report(
                    assignment,
                    task.student,
                    GraderFault(
                        "the grading worker process crashed while grading this submission alone "
                        "(killed, e.g. by the out-of-memory killer)",
                        "run `nngrade check` on it and grade it by hand",
                    ),
                )
            finish(task, report)
        if broken:
            suspects += list(pending.values())  # in flight when the pool broke
            pending.clear()
            pool.shutdown(cancel_futures=True)
            pool = new_pool(jobs, executor)
        if stop() and not pending:
            break
    return pool, suspects + queue
