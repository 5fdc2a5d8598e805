"""A grading worker's private IPC folder goes away with the worker (issue 13: 506 empty
/tmp/nngrade-w<pid>-* folders had piled up, one per worker of every run)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from nngrade.grading.worker import IPC_PREFIX, init_worker, sweep_ipc_folders


def _ipc_dir() -> str:
    folder = os.environ["NNGRADE_IPC_DIR"]
    assert Path(folder).is_dir()
    return folder


def test_worker_folder_removed_when_the_pool_shuts_down():
    pool = ProcessPoolExecutor(
        max_workers=2, mp_context=get_context("spawn"), initializer=init_worker
    )
    try:
        folders = {pool.submit(_ipc_dir).result() for _ in range(4)}
    finally:
        pool.shutdown(wait=True)
    assert folders and all(Path(f).name.startswith(IPC_PREFIX) for f in folders)
    assert [f for f in folders if Path(f).exists()] == []


def test_sweep_removes_only_folders_of_dead_workers(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    gone = Path(tempfile.mkdtemp(prefix=f"{IPC_PREFIX}{dead_pid}-", dir=tmp_path))
    (gone / "kernel.sock").write_text("")
    alive = Path(tempfile.mkdtemp(prefix=f"{IPC_PREFIX}{os.getpid()}-", dir=tmp_path))
    other = tmp_path / "nngrade-work-1-x"  # not an IPC folder
    other.mkdir()
    assert sweep_ipc_folders(tmp_path) == [gone]
    assert not gone.exists() and alive.is_dir() and other.is_dir()
