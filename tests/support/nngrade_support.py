"""Shared helpers of the nngrade tests: a tiny course with simulated students."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import simulate as sim
from make_tiny import tiny_master

ROOT = Path(__file__).resolve().parents[2]

HIDDEN_SECRETS = [
    "secret_probe_values = np.array([1.5, -2.0])",
    "hidden_check_result = increment(41)",
    "assert hidden_check_result == 42",
    "assert np.allclose(square(secret_probe_values)",
]

# student -> (mutations, expected status, expected score of 4)
CLASS = {
    "alice": ([], "graded", 4.0),
    "bob": ([sim.replace_in("square", "np.asarray(x) ** 2", "abs(x) * x")], "graded", 2.0),
    "carol": (
        [sim.delete_cell("test_increment"), sim.replace_in("increment", "n + 1", "n")],
        "graded",
        3.0,
    ),
    "dave": ([sim.append_code("while True:\n    pass", after="square")], "graded", 4.0),
    "erin": ([sim.weaken_tests(), sim.replace_in("increment", "n + 1", "n - 1")], "graded", 3.0),
}


def make_course(tmp: Path, *, cell_timeout: float = 4, executor: str = "inkernel") -> Path:
    """A course folder (config in tmp/autograder) with the tiny assignment; returns config dir."""
    master = tmp / "source" / "tiny" / "tiny.ipynb"
    master.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(tiny_master(), str(master))
    config = tmp / "autograder"
    config.mkdir(exist_ok=True)
    (config / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(tmp)!r}\n"
        "c.CourseDirectory.course_id = 'tiny-course'\n"
        f"c.NNGrade.cell_timeout = {cell_timeout}\n"
        f"c.NNGrade.executor = {executor!r}\n"
    )
    return config


def submit_class(tmp: Path, students: dict | None = None) -> Path:
    """Write the simulated class into a per-student folder (collect's input); returns it."""
    master = nbformat.read(str(tmp / "source" / "tiny" / "tiny.ipynb"), as_version=4)
    inbox = tmp / "inbox"
    for student, (mutations, _, _) in (students or CLASS).items():
        sim.write(sim.build(master, mutations), inbox / student / "tiny.ipynb")
    sim.write_raw(sim.truncated(sim.build(master, [])), inbox / "frank" / "tiny.ipynb")
    sim.write_raw(b"", inbox / "gina" / "tiny.ipynb")
    return inbox


def sigkill_grader_after_start(script: str) -> dict:
    """Run a grader `script` that prints one JSON line of facts once its sandbox is up, then
    SIGKILL it (a crashed grader) and return the facts; fails with its stderr if it printed none."""
    grader = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        facts = json.loads(grader.stdout.readline() or "{}")
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait()
    assert facts, grader.stderr.read()[-3000:]
    return facts
