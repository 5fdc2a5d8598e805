"""Dask path overhead per submission (issue 11 item 4, first part): bytes shipped and the
scheduler round trip of one HW 4 task, on a real scheduler + worker on 127.0.0.1.

Prints the figures beside the machine's load. Not yet measured here: grading core-seconds
against the notebook's own cell-execution time, and the projection (docs/scaling.md says so).
Run: .venv/bin/python benchmarks/grading_scale.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from dask_cluster import dask_cluster  # noqa: E402
from distributed import Client  # noqa: E402
from nngrade.grading.cluster import RemoteTask  # noqa: E402
from nngrade.grading.worker import Task  # noqa: E402

MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"
ROUNDS = 40


def payload_size(task: RemoteTask) -> int:
    """Runs on the worker: proves the bytes arrived."""
    return task.size


def main() -> None:
    """Print bytes per task and the mean sequential round trip (submit -> result)."""
    task = RemoteTask.from_task(Task("s", MASTER.stem, MASTER, MASTER, "key"))
    print(f"bytes shipped per HW 4 task (submission + master): {task.size}")
    with dask_cluster(Path(tempfile.mkdtemp(prefix="nngrade-bench-")), n_workers=1) as cluster:
        with Client(cluster.address) as client:
            client.submit(payload_size, task, pure=False).result()  # warm up
            start = time.perf_counter()
            for _ in range(ROUNDS):
                assert client.submit(payload_size, task, pure=False).result() == task.size
            each = (time.perf_counter() - start) / ROUNDS
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"scheduler round trip per task, payload included: {each * 1000:.1f} ms (load {load})")


if __name__ == "__main__":
    main()
