"""Baseline executor: run the repaired notebook cell by cell in one Jupyter kernel (nbclient).

Each kernel talks over IPC sockets in a private folder (parallel TCP kernels collide on ports),
runs with one BLAS thread and an address-space limit, and each cell has a timeout: the cell is
interrupted and grading goes on; a kernel that dies or ignores the interrupt is killed and the
submission is reported as could-not-grade. Student code is NOT sandboxed here (see isolated.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_core.utils import ensure_async

from nngrade.grading import faults
from nngrade.grading.executors import Executor, Job
from nngrade.grading.markers import strip_hidden
from nngrade.grading.prepare import Prepared, nbgrader_meta
from nngrade.grading.redact import outcome_for, redact
from nngrade.grading.results import COULD_NOT_GRADE, GRADED, GradeReport, Limits, TestOutcome
from nngrade.grading.worker import ONE_THREAD

PROBE_TIMEOUT = 10.0  # seconds a kernel gets to answer after an interrupt


@dataclass
class Execution:
    """What happened while running the cells: per-cell status and a fatal problem if any."""

    cell_status: dict[int, str] = field(default_factory=dict)  # index -> "timeout" | "not-run"
    fatal: str = ""  # kernel died / ignored interrupt / could not start
    start_error: str = ""  # the kernel did not start: a fault of the grader, not the student
    seconds: float = 0.0


def kernel_env() -> dict[str, str]:
    """Environment of a grading kernel: the grader's, with one BLAS thread."""
    env = dict(os.environ)
    env.update(ONE_THREAD)
    return env


def _setup_code(limits: Limits) -> str:
    limit = int(limits.memory_mb) * 1024 * 1024
    return f"import resource as _r\n_r.setrlimit(_r.RLIMIT_AS, ({limit}, {limit}))\ndel _r\n"


async def _probe(client, timeout: float) -> bool:
    """True when the kernel answers a trivial request within `timeout` seconds."""
    msg_id = client.kc.execute("pass", store_history=False)
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            msg = await client.kc.shell_channel.get_msg(timeout=remaining)
        except Exception:  # queue.Empty: no answer in time
            return False
        if msg["parent_header"].get("msg_id") == msg_id:
            return True
    return False


async def _run_cells(nb: nbformat.NotebookNode, limits: Limits, cwd: Path, ipc: Path) -> Execution:
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    result = Execution()
    start = time.monotonic()
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(ipc / "kernel"))
    km.connection_file = str(ipc / "connection.json")
    client = NotebookClient(
        nb,
        km=km,
        timeout=max(1, int(limits.cell_timeout)),
        allow_errors=True,
        interrupt_on_timeout=False,
        record_timing=True,
        iopub_timeout=10,
        startup_timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        await client.async_start_new_kernel(env=kernel_env())
        await client.async_start_new_kernel_client()
        client.kc.execute(_setup_code(limits), silent=True, store_history=False)
    except Exception as err:  # kernel failed to start: infrastructure, not the student
        result.start_error = f"{type(err).__name__}: {err}"
        result.fatal = f"the grading kernel could not start ({result.start_error})"
        await _shutdown(km)
        return result
    count = 0
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if result.fatal or time.monotonic() - start > limits.total_timeout:
                result.cell_status[index] = "not-run"
                continue
            count += 1
            try:
                await client.async_execute_cell(cell, index, execution_count=count)
            except CellTimeoutError:
                result.cell_status[index] = "timeout"
                cell.outputs.append(_timeout_output(limits.cell_timeout))
                await km.interrupt_kernel()
                if not await _probe(client, PROBE_TIMEOUT):
                    result.fatal = (
                        f"cell {index + 1} ran over {limits.cell_timeout:g} s and the kernel "
                        "ignored the interrupt, so it was killed (likely cause: an endless loop "
                        "that catches KeyboardInterrupt, or a long call into native code)"
                    )
            except DeadKernelError:
                result.cell_status[index] = "not-run"
                result.fatal = (
                    f"the kernel died while running cell {index + 1} (likely cause: memory use "
                    f"over the {limits.memory_mb} MB limit, or a crash in native code)"
                )
        if time.monotonic() - start > limits.total_timeout and not result.fatal:
            result.fatal = f"grading took longer than the {limits.total_timeout:g} s total limit"
    finally:
        await _shutdown(km)
        result.seconds = time.monotonic() - start
    return result


async def _shutdown(km) -> None:
    try:
        if await km.is_alive():
            await km.shutdown_kernel(now=True)
    except Exception:  # already dead or half-started: make sure nothing is left
        try:
            await km.kill_kernel()
        except Exception:
            pass
    try:
        await ensure_async(km.cleanup_resources())
    except Exception:  # sockets already gone
        pass


def _timeout_output(seconds: float) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "error",
        ename="TimeoutError",
        evalue=f"the cell did not finish within {seconds:g} s and was interrupted",
        traceback=[f"TimeoutError: the cell did not finish within {seconds:g} s"],
    )


def _workdir(master: Path) -> Path:
    """A scratch copy of the master's folder minus notebooks (data files the notebook reads)."""
    work = Path(tempfile.mkdtemp(prefix="nngrade-work-"))
    for item in master.parent.iterdir():
        if item.suffix == ".ipynb" or item.name.startswith("."):
            continue
        target = work / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)
    return work


def execute(prepared: Prepared, master: Path, limits: Limits) -> Execution:
    """Run the prepared notebook in a fresh IPC kernel inside a scratch folder."""
    work = _workdir(master)
    base = Path(os.environ.get("NNGRADE_IPC_DIR") or tempfile.gettempdir())
    ipc = Path(tempfile.mkdtemp(prefix=f"k{uuid.uuid4().hex[:6]}-", dir=base))
    try:
        return asyncio.run(_run_cells(prepared.notebook, limits, work, ipc))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ipc, ignore_errors=True)


def _grade(job: Job, prepared: Prepared) -> GradeReport:
    """Run the prepared notebook in one kernel and judge its test cells.

    Raises `GraderFault` when the kernel does not start or the master's set-up cannot import
    a package: those are faults of the grading environment, never the student's grade.
    """
    master, limits = job.master, job.limits
    test_ids = {t.grade_id for t in prepared.tests}
    if not job.hidden:
        for cell in prepared.notebook.cells:
            if nbgrader_meta(cell).get("grade_id") in test_ids:
                cell.source = strip_hidden(cell.source, job.markers)
    run = execute(prepared, master, limits)
    if run.start_error:
        raise faults.kernel_did_not_start(run.start_error)
    fault = faults.master_setup_failed(prepared.notebook)
    if fault is not None:
        raise fault
    tests = _outcomes(prepared, run, hidden=job.hidden)
    notebook = redact(prepared.notebook, prepared.tests, tests)
    for index, state in sorted(run.cell_status.items()):
        grade_id = nbgrader_meta(prepared.notebook.cells[index]).get("grade_id")
        if state == "timeout" and grade_id not in test_ids:
            prepared.notes.append(
                f"cell {index + 1} ran over {limits.cell_timeout:g} s and was interrupted "
                "(an endless loop, or code far slower than needed); grading went on"
            )
    status = COULD_NOT_GRADE if run.fatal else GRADED
    return GradeReport(
        job.assignment, job.student, status, run.fatal, tests, notebook, prepared.notes
    )


grade_notebook = Executor(_grade)  # the in-kernel executor (see executors.Executor)


def _outcomes(prepared: Prepared, run: Execution, *, hidden: bool) -> list[TestOutcome]:
    index_of = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(prepared.notebook.cells)}
    outcomes = []
    for test in prepared.tests:
        index = index_of[test.grade_id]
        cell = prepared.notebook.cells[index]
        status = run.cell_status.get(index)
        if status == "not-run":
            reason = run.fatal or "the total time limit was reached"
            outcomes.append(
                TestOutcome(
                    test.grade_id,
                    0.0,
                    test.points,
                    "not-run",
                    f"not run: {reason}",
                    test.hidden and hidden,
                )
            )
            continue
        outcomes.append(outcome_for(test, cell, timed_out=status == "timeout", hidden=hidden))
    return outcomes
