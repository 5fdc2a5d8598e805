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
        deadline = time.monotonic() + 150
        while len(_records(remote)) < 6 and run.poll() is None and time.monotonic() < deadline:
            cluster.sample()
            time.sleep(0.2)
        graded_before_kill = len(_records(remote))
        cluster.kill_worker(0)
        while run.poll() is None and time.monotonic() < deadline:
            cluster.sample()
            time.sleep(0.3)
        out, err = run.communicate(timeout=30)
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
    config = _course(tmp_path / "course")
    env = [{"PYTHONPATH": str(fake)}]
    with dask_cluster(tmp_path / "cluster", n_workers=1, worker_env=env) as cluster:
        code = main(["autograde", "tiny", "--scheduler", cluster.address, "--course", str(config)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "do not have this course's package versions" in err
    assert "has nnhelpers 0.0.0-other+" in err
    assert not (tmp_path / "course" / "autograder" / "gradebook.db").exists()
    assert not _records(tmp_path / "course")
    assert not cluster.left_behind
