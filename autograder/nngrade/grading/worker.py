"""What runs inside a grading worker process (kept light: workers never import the gradebook).

Workers are spawned once per run and each grades many notebooks: one BLAS thread, and a private
folder for the IPC sockets of the kernels it starts (parallel TCP kernels collide on ports).
The folder is removed when the worker exits, and folders of dead workers (a killed worker runs
no exit handler) are swept when the next worker starts.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.util import Finalize
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


IPC_PREFIX = "nngrade-w"
_IPC_FOLDER = re.compile(rf"^{IPC_PREFIX}(\d+)-")


def init_worker() -> None:
    """Runs once per worker: one BLAS thread, a private folder for kernel IPC sockets (removed
    when the worker process exits; leftovers of dead workers are swept first)."""
    os.environ.update(ONE_THREAD)
    sweep_ipc_folders()
    folder = tempfile.mkdtemp(prefix=f"{IPC_PREFIX}{os.getpid()}-")
    os.environ["NNGRADE_IPC_DIR"] = folder
    # multiprocessing runs this when the worker ends normally (pool shutdown), and atexit in
    # a plain process (a Dask worker)
    Finalize(None, shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True}, exitpriority=10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_ipc_folders(base: Path | None = None) -> list[Path]:
    """Remove the IPC folders (ours, in the temp folder) of workers that no longer run; the
    ones removed. A folder whose pid runs is kept, whoever runs it now."""
    base = Path(base or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        match = _IPC_FOLDER.match(entry.name)
        if not match or _alive(int(match[1])):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if entry.is_dir(follow_symlinks=False) and info.st_uid == os.getuid():
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


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
