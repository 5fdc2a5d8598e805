"""A real Dask cluster on 127.0.0.1 for tests: `dask scheduler` + `dask worker` processes.

Each process gets its own session (process group), so a test can SIGKILL one worker with
everything it started, and `stop()` leaves nothing behind. `descendants()` samples every
process the cluster started (kernels included) so a test can check they are all gone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

DASK = Path(sys.executable).with_name("dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    folder: Path
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    seen: set[tuple[int, float]] = field(default_factory=set)
    left_behind: list[psutil.Process] = field(default_factory=list)  # after a graceful stop

    def sample(self) -> None:
        """Remember every live process the cluster started (pid, start time)."""
        for proc in [self.scheduler, *self.workers]:
            try:
                parent = psutil.Process(proc.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    self.seen.add((p.pid, p.create_time()))
            except psutil.NoSuchProcess:
                pass

    def kill_worker(self, index: int) -> None:
        """SIGKILL a worker's whole process group (nanny, worker, its kernels)."""
        self.sample()
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()

    def alive(self) -> list[psutil.Process]:
        """Processes started by the cluster that still run."""
        left = []
        for pid, started in self.seen:
            try:
                p = psutil.Process(pid)
                if p.create_time() == started and p.status() != psutil.STATUS_ZOMBIE:
                    left.append(p)
            except psutil.NoSuchProcess:
                pass
        return left

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")


def _start(cmd: list[str], log: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )


def _wait_for_workers(address: str, n: int, timeout: float = 90) -> None:
    from distributed import Client

    with Client(address, timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(n, timeout=timeout)


@contextmanager
def dask_cluster(
    folder: Path,
    n_workers: int = 2,
    worker_env: list[dict] | None = None,
    scheduler_env: dict | None = None,
    worker_args: tuple[str, ...] = (),
) -> Iterator[Cluster]:
    """Start a scheduler and `n_workers` single-threaded workers; stop them all afterwards.

    `scheduler_env` adds to the scheduler's environment (e.g. Dask settings such as
    DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES); `worker_args` adds to every worker's
    command line (e.g. `--preload FILE`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = _start(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        folder / "scheduler.log",
        {**env, **(scheduler_env or {})},
    )
    cluster = Cluster(address, folder, scheduler)
    try:
        for i in range(n_workers):
            extra = (worker_env or [{}] * n_workers)[i]
            cluster.workers.append(
                _start(
                    [
                        str(DASK),
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                        "--local-directory",
                        str(folder / f"w{i}"),
                        "--name",
                        f"w{i}",
                        *worker_args,
                    ],
                    folder / f"w{i}.log",
                    {**env, **extra},
                )
            )
        _wait_for_workers(address, n_workers)
        cluster.sample()
        yield cluster
    finally:
        cluster.sample()
        for proc in [*cluster.workers, scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in [*cluster.workers, scheduler]:
            try:
                proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        time.sleep(2)  # orphaned kernels notice their parent is gone within a second
        cluster.left_behind = cluster.alive()
        for p in cluster.left_behind:  # never leave them running, even when a test fails
            p.kill()
