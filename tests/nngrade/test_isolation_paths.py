"""The sandbox works wherever the kit, its venv, the data cache and the course folder live.

Issue 9 item 1: a kit cloned under /tmp had its venv hidden by the sandbox's fresh /tmp, and
every kernel died with "No module named 'numpy'". Here a copy of the kit's tracked sources
lives under pytest's tmp_path (under /tmp), its `.venv` is a symlink to the real venv, the
data cache is under /tmp, and the course folder has a space in its name and is reached
through a symlink. The copy's own `nngrade` grades the reference answers in its own sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from adv_master import ASSIGNMENT, MAX_SCORE, master
from simulate import reference

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

PROBE = r"""
import json, sys
from nngrade.grading.results import Limits
from nngrade.sandbox.launcher import Sandbox
code = '''
import json, numpy, nnhelpers, os
from nnhelpers.data import cache_root
print(json.dumps({"numpy": numpy.__file__, "nnhelpers": nnhelpers.__file__,
                  "cache": sorted(os.listdir(cache_root()))}))
'''
with Sandbox(Limits(memory_mb=1024)) as sb:
    reply, _ = sb.request({"op": "run_cell", "code": code}, timeout=60)
    mode = sb.isolation.mode
print(json.dumps({"reply": reply, "mode": mode, "prefix": sys.prefix}))
"""


def _copy_kit(dest: Path) -> None:
    """The kit's tracked files as they are in this working tree (a clone of what is tested)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "autograder", "helpers", "pyproject.toml"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


@pytest.fixture
def kit_under_tmp(tmp_path):
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout of the kit")
    kit = tmp_path / "kit"
    _copy_kit(kit)
    (kit / ".venv").symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    cache = tmp_path / "data cache"
    cache.mkdir()
    (cache / "marker.npz").write_bytes(b"not really data")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": os.pathsep.join([str(kit / "autograder"), str(kit / "helpers")]),
        "NNHELPERS_CACHE": str(cache),
        "NNHELPERS_OFFLINE": "1",
    }
    return kit, env


def test_sandbox_runs_from_a_kit_under_tmp(kit_under_tmp):
    kit, env = kit_under_tmp
    python = kit / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["prefix"].startswith(str(kit)), facts  # the grader really runs from /tmp
    reply = facts["reply"]
    assert reply["ok"], reply.get("error")
    seen = json.loads(reply["stdout"])
    assert seen["cache"] == ["marker.npz"]
    # the sandbox imports the copy's nnhelpers (the grader's), not another checkout's
    assert seen["nnhelpers"].startswith(str(kit.resolve() / "helpers")), seen


def test_grading_with_a_space_and_a_symlink_in_every_path(kit_under_tmp, tmp_path):
    kit, env = kit_under_tmp
    real = tmp_path / "course folder"
    real.mkdir()
    (tmp_path / "linked course").symlink_to(real, target_is_directory=True)
    course = tmp_path / "linked course"
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(master(), str(source))
    (course / "autograder").mkdir()
    (course / "autograder" / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'paths-course'\n"
        "c.NNGrade.executor = 'isolated'\n"
    )
    submission = course / "my work" / f"{ASSIGNMENT}.ipynb"
    submission.parent.mkdir()
    nbformat.write(reference(master()), str(submission))
    python = kit / ".venv" / "bin" / "python"
    argv = [str(python), "-m", "nngrade.cli", "check", ASSIGNMENT, str(submission), "--json"]
    argv += ["--course", str(course / "autograder"), "--executor", "isolated"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    failed = [(t["grade_id"], t["message"][:200]) for t in report["tests"] if t["score"] == 0]
    assert report["status"] == "graded", report["reason"]
    assert report["score"] == MAX_SCORE, failed
