"""Cost at scale (issue 11 item 4), measured in one run on this machine, beside its load.

For one HW 4 submission (the reference answers, hidden tests restored):

- floor: CPU seconds the notebook's own cells take in one kernel (time.process_time() in the
  kernel from the first cell to the last; one BLAS thread), the least any grader can spend;
- local grading core-seconds: CPU of this process plus every process it waited for (the
  sandbox, its kernel, the proxies) while `grade_task` grades it (as `--jobs` workers do);
- Dask overhead, on a real scheduler + worker on 127.0.0.1: bytes shipped, the scheduler
  round trip with that payload (nothing overlapped), the worker's staging of the bytes
  (writing them to a private folder and removing it) and the pickled result's size;
- sandbox start-up and close (shared by local and Dask grading);
- the writer: milliseconds per result (record file + gradebook row) into SQLite and into a
  throwaway PostgreSQL server.

CPU seconds, not wall time, so the figures hold on a shared, loaded machine (load printed).
Run: .venv/bin/python benchmarks/grading_scale.py [--rounds N] [--no-postgres]
"""

from __future__ import annotations

import argparse
import atexit
import os
import pickle
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in ("tests/support", "autograder/demo"):
    sys.path.insert(0, str(ROOT / extra))

import nbformat  # noqa: E402
from nngrade.grading import executors  # noqa: E402
from nngrade.grading.cluster import RemoteTask, grade_remote  # noqa: E402
from nngrade.grading.results import Limits  # noqa: E402
from nngrade.grading.worker import Task, grade_task  # noqa: E402

ASSIGNMENT = "hw4_mlp"
MASTER = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
LIMITS = Limits(cell_timeout=300, total_timeout=1800)


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


class CpuMeter:
    """CPU seconds of this process and everything it starts, however detached (sandboxes,
    kernels): this process moves into a cgroup of its own (cgroup v1 `cpuacct`, or v2), whose
    count includes the sandboxes' own sub-cgroups. Needs a writable cgroup tree (root, or a
    delegated one); otherwise `seconds()` is None and the figures say "not measured".
    """

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.home: Path | None = None
        for base, usage in (("/sys/fs/cgroup/cpuacct", "cpuacct.usage"), ("/sys/fs/cgroup", "")):
            own = self._own(base)
            if own is None:
                continue
            folder = Path(base + own) / f"nngrade-bench-{os.getpid()}"
            try:
                folder.mkdir()
                (folder / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                folder.rmdir() if folder.is_dir() else None
                continue
            self.folder, self.home, self.usage = folder, Path(base + own), usage
            return

    @staticmethod
    def _own(base: str) -> str | None:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if (base.endswith("cpuacct") and "cpuacct" in controllers.split(",")) or (
                base == "/sys/fs/cgroup"
                and controllers == ""
                and Path(base, "cgroup.procs").exists()
            ):
                return path.rstrip("/")
        return None

    def seconds(self) -> float | None:
        if self.folder is None:
            return None
        if self.usage:
            return int((self.folder / self.usage).read_text()) / 1e9
        for line in (self.folder / "cpu.stat").read_text().splitlines():
            if line.startswith("usage_usec"):
                return int(line.split()[1]) / 1e6
        return None

    def close(self) -> None:
        if self.folder is not None:
            (self.home / "cgroup.procs").write_text(str(os.getpid()))
            for _ in range(50):  # the sandboxes' sub-cgroups go when their processes have
                try:
                    for sub in sorted(self.folder.rglob("*"), reverse=True):
                        if sub.is_dir():
                            sub.rmdir()
                    self.folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


METER = CpuMeter()
atexit.register(METER.close)  # even when interrupted


def cpu() -> float:
    """CPU seconds of this process and all it started (cgroup), or of it and its reaped
    children (getrusage) where no cgroup can be made."""
    measured = METER.seconds()
    if measured is not None:
        return measured
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def submission(folder: Path) -> Path:
    """The reference answers as a student would submit them."""
    from simulate import reference

    path = folder / "s01" / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(reference(nbformat.read(str(MASTER), as_version=4)), str(path))
    return path


def floor_seconds(path: Path) -> tuple[float, float]:
    """CPU seconds of the notebook's cells (master with its hidden tests) in one kernel, and
    of the whole run (kernel start-up and shutdown included)."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(MASTER), as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import time as _t\n_cpu0 = _t.process_time()"))
    nb.cells.append(nbformat.v4.new_code_cell("print(_t.process_time() - _cpu0)"))
    from nngrade.grading.worker import ONE_THREAD

    os.environ.update(ONE_THREAD)  # as grading kernels run: one BLAS thread, Agg figures
    start = cpu()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {}}).execute(
        cwd=str(path.parent)
    )
    return float(nb.cells[-1].outputs[0]["text"]), cpu() - start


def grade_locally(path: Path, executor: str) -> tuple[float, float, object]:
    """(core-seconds, wall seconds, report) of grading one submission in this process."""
    task = Task("s01", ASSIGNMENT, path, MASTER, "bench")
    c0, w0 = cpu(), time.perf_counter()
    report = grade_task(task, ASSIGNMENT, LIMITS, executor)
    return cpu() - c0, time.perf_counter() - w0, report


def staging_seconds(remote: RemoteTask) -> float:
    """Runs on a worker: what grade_remote adds around grading (bytes to a folder and back)."""
    import shutil

    start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="nngrade-task-"))
    (folder / "master").mkdir()
    (folder / "master" / remote.master_name).write_bytes(remote.master)
    (folder / "submission").mkdir()
    (folder / "submission" / remote.submission_name).write_bytes(remote.submission or b"")
    shutil.rmtree(folder)
    return time.perf_counter() - start


def payload_size(remote: RemoteTask) -> int:
    """Runs on the worker: proves the bytes arrived."""
    return remote.size


def dask_figures(path: Path, executor: str, rounds: int) -> dict:
    """Round trip, staging, and one real HW 4 grading on a worker (wall, core-seconds)."""
    from dask_cluster import dask_cluster
    from distributed import Client

    remote = RemoteTask.from_task(Task("s01", ASSIGNMENT, path, MASTER, "bench"))
    with dask_cluster(Path(tempfile.mkdtemp(prefix="nngrade-bench-")), n_workers=1) as cluster:
        with Client(cluster.address) as client:
            client.submit(payload_size, remote, pure=False).result()  # warm up
            start = time.perf_counter()
            for _ in range(rounds):
                assert client.submit(payload_size, remote, pure=False).result() == remote.size
            trip = (time.perf_counter() - start) / rounds
            staging = statistics.median(
                client.submit(staging_seconds, remote, pure=False).result() for _ in range(5)
            )
            c0, w0 = cpu(), time.perf_counter()  # scheduler, worker, client: all counted
            report = client.submit(
                grade_remote, remote, ASSIGNMENT, LIMITS, executor, pure=False
            ).result()
            wall = time.perf_counter() - w0
            core = cpu() - c0
    return {
        "bytes": remote.size,
        "trip": trip,
        "staging": staging,
        "result_bytes": len(pickle.dumps(report)),
        "wall": wall,
        "core": core,
        "score": f"{report.score:g}/{report.max_score:g}",
    }


def sandbox_start(runs: int = 3) -> tuple[float, float]:
    """Median seconds to start and to close the sandbox (the mode grading uses here)."""
    from nngrade.sandbox import launcher

    starts, closes = [], []
    for _ in range(runs):
        box = launcher.Sandbox(Limits(memory_mb=1024))
        t0 = time.perf_counter()
        box.start()
        t1 = time.perf_counter()
        box.close()
        starts.append(t1 - t0)
        closes.append(time.perf_counter() - t1)
    return statistics.median(starts), statistics.median(closes)


def writer_ms(db_url: str, report, folder: Path, n: int = 40) -> float:
    """Milliseconds per result the instructor's process spends writing (record + gradebook)."""
    from nngrade.grading import records
    from nngrade.grading.gradebook import open_gradebook, record, sync_assignment

    gb = open_gradebook(db_url, "bench")
    try:
        sync_assignment(gb, ASSIGNMENT, [MASTER])
        start = time.perf_counter()
        for i in range(n):
            student = f"w{i:03d}"
            report.student = student
            records.save(
                folder, student, ASSIGNMENT, ASSIGNMENT, "k", report, "bench", master=MASTER
            )
            record(gb, ASSIGNMENT, student, ASSIGNMENT, report)
        return (time.perf_counter() - start) / n * 1000
    finally:
        gb.close()


def main() -> None:
    """Measure everything once and print it side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="round trips to average")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL writer")
    args = parser.parse_args()
    executor = executors.default_name()
    scratch = Path(tempfile.mkdtemp(prefix="nngrade-scale-"))
    path = submission(scratch)
    print(f"load {load()} at start; executor {executor}")

    print("CPU measured by " + ("a cgroup" if METER.folder else "getrusage (kernels missed)"))
    floor, plain = floor_seconds(path)
    core, wall, report = grade_locally(path, executor)
    assert report.status == "graded", report.reason
    print(f"floor: the notebook's cells in one kernel      {floor:7.2f} CPU s")
    print(f"the same in plain nbclient, kernel start incl. {plain:7.2f} core-s")
    print(
        f"local grading of one HW 4 submission          {core:7.2f} core-s  ({wall:.1f} s wall, "
        f"{report.score:g}/{report.max_score:g})  = {core / floor:.2f}x the floor "
        f"(target <= 1.2x)   load {load()}"
    )
    start, close = sandbox_start()
    print(f"sandbox start-up / close (median of 3)        {start:7.2f} s / {close:.2f} s")

    dask = dask_figures(path, executor, args.rounds)
    overhead = dask["trip"] + dask["staging"]
    print(f"Dask: bytes shipped per task                  {dask['bytes']:,} B")
    print(f"Dask: pickled result per task                 {dask['result_bytes']:,} B")
    print(f"Dask: scheduler round trip with the payload   {dask['trip'] * 1000:7.1f} ms")
    print(f"Dask: worker staging (write + remove bytes)   {dask['staging'] * 1000:7.1f} ms")
    print(
        f"Dask: one HW 4 grading on a worker            {dask['core']:7.2f} core-s  "
        f"({dask['wall']:.1f} s wall, {dask['score']})   load {load()}"
    )
    print(
        f"Dask overhead per submission                  {overhead * 1000:7.1f} ms = "
        f"{overhead / core:.1%} of local grading's core-seconds (target < 5 %)"
    )

    sqlite_ms = writer_ms(f"sqlite:///{scratch / 'gradebook.db'}", report, scratch / "lite")
    print(f"writer per result, SQLite                     {sqlite_ms:7.1f} ms")
    if not args.no_postgres:
        from pg_server import pg_bin, postgres_server

        if pg_bin() is None:
            print("writer per result, PostgreSQL: not measured (PostgreSQL not installed)")
        else:
            with postgres_server() as url:
                pg_ms = writer_ms(url, report, scratch / "pg")
            print(f"writer per result, PostgreSQL                 {pg_ms:7.1f} ms")
    print(f"load {load()} at the end")


if __name__ == "__main__":
    main()
