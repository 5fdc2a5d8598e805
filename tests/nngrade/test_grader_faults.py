"""A fault of the grader is never a student's grade: own status, not cached, retried, loud."""

from __future__ import annotations

import json

import pytest
from nngrade.cli import main
from nngrade.grading import inkernel
from nngrade.grading.config import load
from nngrade.grading.executors import available
from nngrade.grading.gradebook import open_gradebook, scores
from nngrade.grading.results import GraderFault
from nngrade_support import CLASS, make_course, submit_class

pytestmark = pytest.mark.slow


def run(config, *args):
    return main([*args, "--course", str(config)])


def _record(tmp, student):
    path = tmp / "autograder/course/autograded" / student / "tiny" / "tiny.nngrade.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _break_numpy(tmp, monkeypatch):
    """A broken grading environment: the kernel's PYTHONPATH shadows numpy with a dud."""
    dud = tmp / "broken-env" / "numpy"
    dud.mkdir(parents=True)
    (dud / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'numpy'\")\n")
    real = inkernel.kernel_env

    def broken_env():
        env = real()
        env["PYTHONPATH"] = str(dud.parent)
        return env

    monkeypatch.setattr(inkernel, "kernel_env", broken_env)


def test_missing_package_is_a_grader_fault_retried_without_force(tmp_path, monkeypatch, capsys):
    config = make_course(tmp_path)
    assert run(config, "collect", str(submit_class(tmp_path)), "tiny") == 0
    with monkeypatch.context() as broken:
        _break_numpy(tmp_path, broken)
        code = run(config, "autograde", "tiny", "--jobs", "1", "--no-progress")
        err = capsys.readouterr().err
    assert code == 3, err
    assert "grader fault" in err and "numpy" in err and "Fix:" in err
    assert "stopped after 3 grader faults" in err  # no point grading the rest
    assert _record(tmp_path, "alice")["status"] == "grader-fault"
    assert _record(tmp_path, "alice")["key"] == ""
    settings = load(config)
    gb = open_gradebook(settings.db_url, settings.course_id)
    try:
        assert all(v is None for v in scores(gb, "tiny").get("alice", {}).values())
    finally:
        gb.close()
    # the environment is fixed: the next plain run regrades them (no --force)
    assert run(config, "autograde", "tiny", "--jobs", "1", "--no-progress") == 0
    out = capsys.readouterr().out
    assert "skipped 0 unchanged" in out, out
    assert "score changed: alice/tiny: grader fault -> 4/4" in out
    for student, (_, status, score) in CLASS.items():
        record = _record(tmp_path, student)
        assert (record["status"], record["score"]) == (status, score), student
    # a real result is cached: the run after that skips everyone
    assert run(config, "autograde", "tiny", "--jobs", "1", "--no-progress") == 0
    assert "skipped 7 unchanged" in capsys.readouterr().out


def test_kernel_that_cannot_start_is_a_grader_fault(tmp_path, monkeypatch, capsys):
    from jupyter_client.manager import AsyncKernelManager

    config = make_course(tmp_path)
    submit_class(tmp_path)

    async def no_kernel(self, **kwargs):
        raise RuntimeError("simulated: kernel failed to start")

    monkeypatch.setattr(AsyncKernelManager, "start_kernel", no_kernel)
    code = run(config, "check", "tiny", str(tmp_path / "inbox/alice/tiny.ipynb"))
    captured = capsys.readouterr()
    assert code == 3
    assert "grader-fault" in captured.out
    line = [x for x in captured.err.splitlines() if "grader fault" in x]
    assert len(line) == 1 and "could not start" in line[0] and "Fix:" in line[0]
    # a broken submission stays a fault of the submission, with its reason
    assert run(config, "check", "tiny", str(tmp_path / "inbox/frank/tiny.ipynb")) == 1
    assert "not valid notebook JSON" in capsys.readouterr().out


@pytest.mark.skipif(not available("isolated"), reason="isolated executor not present")
def test_sandbox_that_cannot_start_is_a_grader_fault(tmp_path, monkeypatch):
    from nngrade.sandbox import isolated
    from nngrade.sandbox.launcher import SandboxError

    make_course(tmp_path)
    submit_class(tmp_path)

    def no_sandbox(self):
        raise SandboxError("simulated: bwrap: cannot mount /tmp")

    monkeypatch.setattr(isolated.Sandbox, "start", no_sandbox)
    with pytest.raises(GraderFault, match="sandbox could not start"):
        isolated.grade_notebook(
            tmp_path / "inbox/alice/tiny.ipynb",
            tmp_path / "source/tiny/tiny.ipynb",
            assignment="tiny",
            limits=load(tmp_path / "autograder").limits,
        )
