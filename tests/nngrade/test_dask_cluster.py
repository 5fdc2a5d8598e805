"""`nngrade autograde --scheduler`: grading on a real Dask cluster of processes on 127.0.0.1.

A worker is SIGKILLed partway: its submissions are graded elsewhere, every score equals local
`--jobs 2` grading, the gradebook has one row per grade, and no process is left behind. An
unreachable scheduler, and a worker with other package versions, stop the run before anything
is written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest
from nngrade.cli import main
from nngrade_support import make_course, sim, submit_class

pytest.importorskip("distributed")
from dask_cluster import _free_port, dask_cluster  # noqa: E402

pytestmark = pytest.mark.slow

N = 32  # + frank (truncated) and gina (empty file) from submit_class


def _class() -> dict:
    slow = sim.append_code("import time\ntime.sleep(0.4)")
    bugs = [
        [],
        [sim.replace_in("increment", "n + 1", "n")],
        [sim.replace_in("square", "np.asarray(x) ** 2", "abs(x) * x")],
    ]
    return {f"s{i:02d}": ([slow, *bugs[i % 3]], "graded", 0) for i in range(N)}


def _records(tmp) -> dict:
    folder = tmp / "autograder/course/autograded"
    return {
        p.parent.parent.name: json.loads(p.read_text())
        for p in folder.glob("*/tiny/tiny.nngrade.json")
    }


def _course(tmp):
    config = make_course(tmp)
    inbox = submit_class(tmp, _class())
    assert main(["collect", str(inbox), "tiny", "--course", str(config)]) == 0
    return config


def test_worker_killed_mid_class_every_submission_graded_once(tmp_path):
    local, remote = tmp_path / "local", tmp_path / "remote"
    local_config = _course(local)
    assert (
        main(["autograde", "tiny", "--jobs", "2", "--no-progress", "--course", str(local_config)])
        == 0
    )
    expected = {s: (r["status"], r.get("score")) for s, r in _records(local).items()}
    assert len(expected) == N + 2

    config = _course(remote)
    with dask_cluster(tmp_path / "cluster", n_workers=2) as cluster:
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nngrade.cli",
                "autograde",
                "tiny",
                "--scheduler",
                cluster.address,
                "--course",
                str(config),
                "--no-progress",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Generous waits (a loaded machine, tests in parallel): nothing here is timed.
        deadline = time.monotonic() + 600
        while len(_records(remote)) < 6 and run.poll() is None and time.monotonic() < deadline:
            cluster.sample()
            time.sleep(0.2)
        graded_before_kill = len(_records(remote))
        cluster.kill_worker(0)
        deadline = time.monotonic() + 1200
        while run.poll() is None and time.monotonic() < deadline:
            cluster.sample()
            time.sleep(0.3)
        out, err = run.communicate(timeout=120)
        scheduler_log = cluster.log("scheduler")
    print(out, err, scheduler_log[-3000:], sep="\n")
    assert run.returncode == 0, err
    assert graded_before_kill < N, "the worker was killed too late to test anything"
    assert "Remove worker" in scheduler_log  # the scheduler saw the worker die
    got = {s: (r["status"], r.get("score")) for s, r in _records(remote).items()}
    assert got == expected
    assert f"graded {N}," in out  # each submission once (frank and gina: could not grade)
    assert not cluster.left_behind, [p.cmdline() for p in cluster.left_behind]

    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{remote / 'autograder' / 'gradebook.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM grade")).scalar()
        cells = conn.execute(text("SELECT count(*) FROM grade_cells")).scalar()
        subs = conn.execute(text("SELECT count(*) FROM submitted_assignment")).scalar()
    engine.dispose()
    assert subs == N + 2 and rows == subs * cells


def test_unreachable_scheduler_is_a_clear_error_before_anything_is_written(tmp_path, capsys):
    config = _course(tmp_path)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    code = main(["autograde", "tiny", "--scheduler", address, "--course", str(config)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert not (tmp_path / "autograder" / "gradebook.db").exists()
    assert not _records(tmp_path)


def test_worker_with_other_versions_is_named_before_anything_is_written(tmp_path, capsys):
    fake = tmp_path / "fake"
    shutil.copytree(
        __import__("nnhelpers").__path__[0],
        fake / "nnhelpers",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    init = fake / "nnhelpers" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "0.0.0-other+'))
    # numpy's installed metadata (not its __version__): a dist-info found first on the path
    info = fake / "numpy-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 0.0.1\n")
    config = _course(tmp_path / "course")
    env = [{"PYTHONPATH": str(fake)}]
    with dask_cluster(tmp_path / "cluster", n_workers=1, worker_env=env) as cluster:
        code = main(["autograde", "tiny", "--scheduler", cluster.address, "--course", str(config)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "do not have this course's package versions" in err
    assert "has nnhelpers 0.0.0-other+" in err
    assert "has numpy 0.0.1, this machine " in err
    assert "has python" not in err  # the same Python: not named
    assert not (tmp_path / "course" / "autograder" / "gradebook.db").exists()
    assert not _records(tmp_path / "course")
    assert not cluster.left_behind


# Loaded into every worker process with `--preload`: grading the student "killer" SIGKILLs the
# worker process (as the kernel's OOM killer would). Student code in the sandbox cannot reach
# its worker, so the fault is injected here, in the grader.
KILLER_PRELOAD = """
import os
import signal

import nngrade.grading.cluster as cluster

if not hasattr(cluster, "unpatched_grade_task"):  # Dask may run a preload more than once
    cluster.unpatched_grade_task = cluster.grade_task


def grade_task(task, *args, **kwargs):
    if task.student == "killer":
        os.kill(os.getpid(), signal.SIGKILL)
    return cluster.unpatched_grade_task(task, *args, **kwargs)


cluster.grade_task = grade_task
"""


def test_a_submission_that_kills_every_worker_is_a_grader_fault_not_a_grade(tmp_path):
    config = make_course(tmp_path)
    students = {f"s{i:02d}": ([], "graded", 4.0) for i in range(5)}
    students["killer"] = ([], "graded", 4.0)  # a correct notebook: only the worker dies
    inbox = submit_class(tmp_path, students)
    assert main(["collect", str(inbox), "tiny", "--course", str(config)]) == 0
    preload = tmp_path / "killer_preload.py"
    preload.write_text(KILLER_PRELOAD)
    with dask_cluster(
        tmp_path / "cluster",
        n_workers=2,
        # one death is enough to call a task a killer: the workers it shared with the
        # killer are graded again alone, and the killer kills its worker again then
        scheduler_env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"},
        worker_args=("--preload", str(preload)),
    ) as cluster:
        run = subprocess.run(
            [sys.executable, "-m", "nngrade.cli", "autograde", "tiny"]
            + ["--scheduler", cluster.address, "--course", str(config), "--no-progress"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        cluster.sample()
        scheduler_log = cluster.log("scheduler")
    print(run.stdout, run.stderr, scheduler_log[-3000:], sep="\n")
    assert run.returncode == 3, run.stderr  # grader faults: non-zero
    assert "marked as failed because 1 workers died" in scheduler_log
    assert "grader fault (1 submissions: killer/tiny)" in run.stderr
    assert "KilledWorker" in run.stderr and "while graded alone" in run.stderr
    got = {s: (r["status"], r.get("score")) for s, r in _records(tmp_path).items()}
    assert got.pop("killer")[0] == "grader-fault"
    # every innocent student is graded, even those that shared a dying worker with the killer
    assert got == {
        **{s: ("graded", 4.0) for s in students if s != "killer"},
        "frank": ("could-not-grade", 0.0),
        "gina": ("could-not-grade", 0.0),
    }
    from nngrade.grading.gradebook import open_gradebook, scores

    gb = open_gradebook(f"sqlite:///{tmp_path / 'autograder' / 'gradebook.db'}", "tiny-course")
    try:
        table = scores(gb, "tiny")
    finally:
        gb.close()
    assert "killer" not in table or all(v is None for v in table["killer"].values())
    assert not cluster.left_behind, [p.cmdline() for p in cluster.left_behind]


def test_version_check_names_every_mismatch_python_included():
    from nngrade.grading.cluster import local_versions, version_mismatches

    mine = local_versions()
    assert set(mine) >= {"python", "numpy", "nbgrader", "nngrade", "nnhelpers"}
    assert "missing" not in mine.values(), mine
    other = {**mine, "python": "3.0.1", "nbgrader": "0.1"}
    lines = version_mismatches(mine, {"tcp://w1": other, "tcp://w2": dict(mine)})
    assert lines == [
        f"worker tcp://w1 has python 3.0.1, this machine {mine['python']}",
        f"worker tcp://w1 has nbgrader 0.1, this machine {mine['nbgrader']}",
    ]


class _Future:
    """Just enough of a `distributed.Future` for run_on_cluster."""

    def __init__(self, key, error=None):
        self.key, self.error = key, error
        self.status = "error" if error else "finished"

    def result(self):
        if self.error:
            raise self.error
        from nngrade.grading.results import GradeReport

        return GradeReport("tiny", self.key.split("-")[2], "graded", "")

    def exception(self):
        return self.error

    def done(self):
        return True

    def release(self):
        pass


class _Client:
    """Records submissions; a submitted key can be made to fail with `fail`."""

    def __init__(self, fail=None):
        self.submitted, self.fail = [], fail or {}

    def submit(self, *args, key, **kwargs):
        student = key.split("-")[2]
        self.submitted.append(student)
        errors = self.fail.get(student, [])
        future = _Future(key, errors.pop(0) if errors else None)
        return future

    def cancel(self, futures):
        pass


def _tasks(tmp_path, students):
    from nngrade.grading.worker import Task

    nb = tmp_path / "tiny.ipynb"
    nb.write_text("{}")
    return [Task(s, "tiny", nb, nb, f"k{s}") for s in students]


def test_a_result_delivered_twice_is_recorded_once(tmp_path, monkeypatch):
    import distributed
    from nngrade.grading.cluster import run_on_cluster
    from nngrade.grading.results import Limits

    def twice(futures, with_results=False):  # e.g. a rerun after a lost worker
        for future in futures:
            yield future
            yield future

    monkeypatch.setattr(distributed, "as_completed", twice)
    finished = []
    left = run_on_cluster(
        _Client(),
        _tasks(tmp_path, ["a", "b"]),
        "tiny",
        Limits(),
        "inkernel",
        lambda task, report: finished.append((task.student, report.status)),
        lambda: False,
    )
    assert left == [] and finished == [("a", "graded"), ("b", "graded")]


def test_killed_worker_suspects_are_graded_again_alone(tmp_path, monkeypatch):
    import distributed
    from distributed import KilledWorker
    from nngrade.grading.cluster import run_on_cluster
    from nngrade.grading.results import Limits

    monkeypatch.setattr(distributed, "as_completed", lambda futures, with_results=False: futures)
    # "b" shared the dying worker once (innocent); "k" kills every worker it lands on
    from types import SimpleNamespace

    worker = SimpleNamespace(address="tcp://127.0.0.1:1")
    killed = {s: KilledWorker(s, worker, 0) for s in "bk"}
    client = _Client({"b": [killed["b"]], "k": [killed["k"]] * 2})
    finished = []
    run_on_cluster(
        client,
        _tasks(tmp_path, ["a", "b", "k"]),
        "tiny",
        Limits(),
        "inkernel",
        lambda task, report: finished.append((task.student, report.status)),
        lambda: False,
    )
    assert client.submitted == ["a", "b", "k", "b", "k"]  # suspects again, after the others
    assert finished == [("a", "graded"), ("b", "graded"), ("k", "grader-fault")]
