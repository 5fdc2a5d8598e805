"""Grading executors: what every executor shares, and the registry `get(name)`.

An executor is an `Executor`: its `run(job, prepared)` executes one prepared submission and
judges its tests. "inkernel" (nngrade.grading.inkernel) runs student and test cells in one
Jupyter kernel; "isolated" (nngrade.sandbox.isolated) runs student code in a sandbox and the
tests in the grader. What comes before `run` is the same for both and lives here, once: the
call's signature (the fields of `Job`), reading and repairing the submission (`prepare`), the
could-not-grade report of a submission that cannot be read, and the note of a grading that ran
the visible tests only. Imports are lazy so a missing or broken executor only fails when it is
asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.prepare import Prepared, SubmissionError, prepare
from nngrade.grading.results import COULD_NOT_GRADE, HIDDEN_NOT_RUN, GradeReport, Limits


@dataclass(frozen=True)
class Job:
    """One submission to grade, and how: what every executor is given."""

    submission: Path
    master: Path  # the master copy (hidden tests inside) or, with hidden=False, a release copy
    assignment: str
    limits: Limits
    hidden: bool = True  # False: visible tests only, and the report says so (HIDDEN_NOT_RUN)
    student: str | None = None
    new_in_master: frozenset[str] = frozenset()  # test ids the student's copy could not have
    markers: Markers = DEFAULT  # the course's solution / hidden-test delimiters


@dataclass(frozen=True)
class Executor:
    """A grading executor. Call it as `executor(submission, master, assignment=..., limits=...,
    ...)` (keywords: the fields of `Job`) to grade one submission.

    `run` gets the job and the prepared (read, checked, repaired) notebook and returns the
    report; a fault of the grader's own environment raises `GraderFault`, never a grade.
    """

    run: Callable[[Job, Prepared], GradeReport]

    def __call__(self, submission: Path, master: Path, **options: Any) -> GradeReport:
        """Grade one submission; a fault of the grader raises `GraderFault` (never a grade)."""
        job = Job(Path(submission), Path(master), **options)
        try:
            prepared = prepare(
                job.submission,
                job.master,
                assignment=job.assignment,
                limits=job.limits,
                new_in_master=job.new_in_master,
                markers=job.markers,
            )
        except SubmissionError as err:
            return GradeReport(job.assignment, job.student, COULD_NOT_GRADE, str(err))
        if not job.hidden:
            prepared.notes.append(HIDDEN_NOT_RUN)
        return self.run(job, prepared)


_MODULES = {"inkernel": "nngrade.grading.inkernel", "isolated": "nngrade.sandbox.isolated"}


def available(name: str) -> bool:
    """True when the executor's module can be imported."""
    try:
        get(name)
    except (ImportError, KeyError):
        return False
    return True


def default_name() -> str:
    """The isolated executor when it can be imported, otherwise the in-kernel one."""
    return "isolated" if available("isolated") else "inkernel"


def get(name: str) -> Executor:
    """Return executor `name` (its module's `grade_notebook`)."""
    if name not in _MODULES:
        raise KeyError(f"unknown executor {name!r}; known: {', '.join(_MODULES)}")
    module = importlib.import_module(_MODULES[name])
    return module.grade_notebook
