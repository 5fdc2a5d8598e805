"""Fixtures of the course tests: lecture runs shared by every test process of one session."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from _lecture_runs import LectureRun, run_lecture


@pytest.fixture(scope="session")
def lecture_runs(tmp_path_factory) -> Callable[[str], LectureRun]:
    """`lecture_runs(name)`: the lecture's run, executed once per test session.

    Under pytest-xdist every worker has its own temporary folder inside the session's; the
    executed lectures go to a folder beside them, so whichever worker needs a lecture first
    runs it and the others read the result (tests/support/_lecture_runs.py). Without xdist the
    one process keeps its runs in memory.
    """
    shared: Path | None = None
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "lecture-runs"
    return lambda name: run_lecture(name, shared)


@pytest.fixture(scope="session")
def hint_results(tmp_path_factory) -> Path | None:
    """Where the workers of one session share hint-coverage results (None: one process keeps
    them in memory), as `lecture_runs` shares the lectures (tests/support/hint_coverage.py)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.getbasetemp().parent / "hint-coverage"
    return None
