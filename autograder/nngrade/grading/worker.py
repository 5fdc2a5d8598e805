"""What runs inside a grading worker process (kept light: workers never import the gradebook).

Workers are spawned once per run and each grades many notebooks: one BLAS thread, and a private
folder for the IPC sockets of the kernels it starts (parallel TCP kernels collide on ports).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from nngrade.grading import executors
from nngrade.grading.caps import cap_outputs
from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.results import GradeReport, GraderFault, Limits, grader_fault_report

ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}


@dataclass
class Task:
    """One notebook of one student to grade."""

    student: str
    notebook: str  # master notebook name (stem)
    submission: Path
    master: Path
    key: str
    note: str = ""  # e.g. "graded x.ipynb (expected the name y.ipynb)"
    new_in_master: frozenset[str] = frozenset()  # test ids added since the student's copy


def init_worker() -> None:
    """Runs once per worker: one BLAS thread, a private folder for kernel IPC sockets."""
    os.environ.update(ONE_THREAD)
    os.environ["NNGRADE_IPC_DIR"] = tempfile.mkdtemp(prefix=f"nngrade-w{os.getpid()}-")


def warm_up(executor: str) -> int:
    """Import the executor now, while the parent prepares the gradebook; returns the pid."""
    executors.get(executor)
    return os.getpid()


def grade_task(
    task: Task, assignment: str, limits: Limits, executor: str, markers: Markers = DEFAULT
) -> GradeReport:
    """Grade one notebook; never raises.

    A fault of the submission becomes a could-not-grade report; a fault of the grader (its
    environment, or a bug of the grader itself) a grader-fault report, which is never a grade.
    """
    from nngrade.grading import faults

    start = time.monotonic()
    try:
        if not task.submission.is_file():
            return GradeReport(assignment, task.student, "could-not-grade", task.note, [], None)
        report = executors.get(executor)(
            task.submission,
            task.master,
            assignment=assignment,
            limits=limits,
            hidden=True,
            student=task.student,
            new_in_master=task.new_in_master,
            markers=markers,
        )
    except GraderFault as fault:
        return grader_fault_report(assignment, task.student, fault)
    except OSError as err:
        fault = faults.from_os_error(err) or GraderFault(
            f"the grader failed ({type(err).__name__}: {err})"
        )
        return grader_fault_report(assignment, task.student, fault)
    except Exception as err:  # a grader bug must not take the whole class down
        fault = GraderFault(
            f"the grader failed ({type(err).__name__}: {err})",
            "this is a bug of nngrade: report it with the traceback of "
            "`nngrade check <assignment> <notebook>`; meanwhile grade this submission by hand",
        )
        return grader_fault_report(assignment, task.student, fault)
    cap_outputs(report.notebook)  # a report never carries more than the graded copy keeps
    if task.note:
        report.notes.insert(0, task.note)
    report.seconds = round(time.monotonic() - start, 2)
    return report
