"""Grading on a Dask distributed cluster (`nngrade autograde --scheduler tcp://HOST:8786`).

Dask's `distributed` schedules, retries and moves the work; nngrade adds no job system. Each
Dask task is one submission and carries everything it needs (the notebook's bytes, the master
copy's bytes, the limits, the executor's name), so workers need no shared folder and never see
the gradebook. A worker grades in the same sandbox (executor) as local grading, with one BLAS
thread, and returns the GradeReport; the instructor's process is the only writer of records,
gradebook, feedback and exports, and handles results as they complete.

Faults: a worker that dies mid-task has its tasks rerun elsewhere by the scheduler. Dask counts
a death against every task the worker held, so a task that ends in `KilledWorker` is only a
suspect: once the others are done, each suspect is graded again alone (one task on the whole
cluster); one that kills workers again then is a grader fault, never a grade, and the run exits
non-zero. The parent accepts one result per submission key (duplicates are dropped); an
unreachable scheduler or a worker with other package versions (Python's included) is a
`ClusterError` raised before anything is written.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.results import GradeReport, GraderFault, Limits, grader_fault_report
from nngrade.grading.worker import Task, grade_task, init_worker

# Packages whose versions decide a grade: they must be the same on every worker (and Python).
PINNED = ("numpy", "nbgrader", "nbclient", "nbformat", "ipykernel", "nngrade", "nnhelpers")
CHECKED = ("python", *PINNED)
CONNECT_TIMEOUT = "10s"


class ClusterError(RuntimeError):
    """The cluster cannot be used (unreachable, no workers, other package versions)."""


@dataclass
class RemoteTask:
    """One submission as shipped to a worker: bytes, not paths."""

    student: str
    notebook: str
    submission_name: str
    submission: bytes | None  # None: the submission file is missing (could not grade)
    master_name: str
    master: bytes
    key: str
    note: str = ""
    new_in_master: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_task(cls, task: Task) -> RemoteTask:
        """Read a local task's files into a self-contained task."""
        present = task.submission.is_file()
        return cls(
            task.student,
            task.notebook,
            task.submission.name,
            task.submission.read_bytes() if present else None,
            task.master.name,
            task.master.read_bytes(),
            task.key,
            task.note,
            task.new_in_master,
        )

    @property
    def size(self) -> int:
        """Bytes of notebook data this task ships."""
        return len(self.submission or b"") + len(self.master)


def local_versions() -> dict[str, str]:
    """Python's version and those of the packages in PINNED ("missing" when not installed)."""
    import importlib

    found = {"python": platform.python_version()}
    for name in PINNED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            try:  # the kit's own packages, installed together as one project
                found[name] = str(importlib.import_module(name).__version__)
            except (ImportError, AttributeError):
                found[name] = "missing"
    return found


def version_mismatches(mine: dict[str, str], workers: dict[str, dict[str, str]]) -> list[str]:
    """One line per worker package whose version differs from the instructor's."""
    lines = []
    for address, theirs in sorted(workers.items()):
        for name in CHECKED:
            if theirs.get(name) != mine.get(name):
                lines.append(
                    f"worker {address} has {name} {theirs.get(name, 'missing')}, "
                    f"this machine {mine.get(name, 'missing')}"
                )
    return lines


_worker_ready = False


def grade_remote(
    remote: RemoteTask, assignment: str, limits: Limits, executor: str, markers: Markers = DEFAULT
) -> GradeReport:
    """Runs on a Dask worker: write the bytes to a private folder, grade, clean up.

    The first call in a worker process sets one BLAS thread and a private IPC folder (as
    `init_worker` does for local workers); the kernels it starts inherit both.
    """
    global _worker_ready
    if not _worker_ready:
        init_worker()
        _worker_ready = True
    folder = Path(tempfile.mkdtemp(prefix="nngrade-task-"))
    try:
        master = folder / "master" / remote.master_name
        master.parent.mkdir()
        master.write_bytes(remote.master)
        submission = folder / "submission" / remote.submission_name
        submission.parent.mkdir()
        if remote.submission is not None:
            submission.write_bytes(remote.submission)
        task = Task(
            remote.student,
            remote.notebook,
            submission,
            master,
            remote.key,
            remote.note,
            remote.new_in_master,
        )
        return grade_task(task, assignment, limits, executor, markers)
    except Exception as err:  # noqa: BLE001 - returned, not raised: see below
        # An exception crossing Dask is pickled with its traceback; one that cannot be (e.g. a
        # RecursionError) leaves the client's future pending for ever. A report always can.
        return grader_fault_report(
            assignment,
            remote.student,
            GraderFault(
                f"the Dask worker failed to grade ({type(err).__name__}: {str(err)[:300]})",
                "check the worker's installation (the pinned requirements), then run the "
                "same command again",
            ),
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def connect(address: str):
    """A `distributed.Client` of the scheduler at `address`, its workers' versions checked."""
    try:
        from distributed import Client
    except ImportError as err:
        raise ClusterError(
            "--scheduler needs Dask's `distributed` (pip install -r requirements/course.txt)"
        ) from err
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as err:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({err}); nothing was graded or written"
        ) from err
    try:
        client.wait_for_workers(1, timeout=60)
        problems = version_mismatches(local_versions(), client.run(local_versions))
    except (OSError, TimeoutError) as err:
        client.close()
        raise ClusterError(f"the Dask cluster at {address} has no workers ({err})") from err
    if problems:
        client.close()
        raise ClusterError(
            "the Dask workers do not have this course's package versions (install the pinned "
            "requirements on every worker):\n  " + "\n  ".join(problems)
        )
    return client


def run_on_cluster(
    client,
    tasks: list[Task],
    assignment: str,
    limits: Limits,
    executor: str,
    finish: Callable[[Task, GradeReport], None],
    stop: Callable[[], bool],
    markers: Markers = DEFAULT,
) -> list[Task]:
    """Submit every task, handle results as they complete (each submission once).

    Tasks that end in `KilledWorker` (a worker died while holding them, maybe because of
    another task) are graded again afterwards, one at a time; only then is a second
    `KilledWorker` that task's own grader fault. Returns the tasks never finished because
    `stop()` asked to stop.
    """
    from distributed import as_completed

    def submit(task: Task):
        key = f"nngrade-{assignment}-{task.student}-{task.notebook}-{os.urandom(4).hex()}"
        by_key[key] = task
        return client.submit(
            grade_remote,
            RemoteTask.from_task(task),
            assignment,
            limits,
            executor,
            markers,
            key=key,
            pure=False,
            retries=0,
        )

    by_key: dict[str, Task] = {}
    futures = [submit(task) for task in tasks]
    done: set[tuple[str, str]] = set()
    suspects: list[Task] = []
    for future in as_completed(futures, with_results=False):
        task = by_key[future.key]
        who = (task.student, task.notebook)
        if who in done:  # a duplicate result (a rerun after a lost worker): the first counts
            continue
        if _killed_worker(future):
            suspects.append(task)
            future.release()
            continue
        done.add(who)
        finish(task, _report(future, assignment, task))
        future.release()  # saved: a worker lost later need not recompute it
        if stop():
            client.cancel([f for f in futures if not f.done()])
            return [t for t in tasks if (t.student, t.notebook) not in done]
    for task in suspects:  # alone on the cluster: a death now is this task's own doing
        future = submit(task)
        future.exception()  # waits until it has finished, whether it failed or not
        done.add((task.student, task.notebook))
        finish(task, _report(future, assignment, task, alone=True))
        future.release()
        if stop():
            break
    return [t for t in tasks if (t.student, t.notebook) not in done]


def _killed_worker(future) -> bool:
    """True when the task failed because workers died while holding it."""
    from distributed import KilledWorker

    return future.status == "error" and isinstance(future.exception(), KilledWorker)


def _report(future, assignment: str, task: Task, alone: bool = False) -> GradeReport:
    """The future's GradeReport; a task that failed on the cluster is a grader fault."""
    try:
        return future.result()
    except Exception as err:  # KilledWorker, a lost connection, a worker's import error
        name = type(err).__name__
        where = " while graded alone" if alone else ""
        return grader_fault_report(
            assignment,
            task.student,
            GraderFault(
                f"grading failed on the Dask cluster{where} ({name}: {err})",
                "run the same command again; if this submission kills workers again, run "
                "`nngrade check` on it and grade it by hand",
            ),
        )


def iter_sizes(tasks: Iterable[Task]) -> int:
    """Total bytes of notebook data the tasks ship (benchmarks)."""
    return sum(RemoteTask.from_task(t).size for t in tasks)
