"""Registry of grading executors: `get(name)` returns a `grade_notebook` callable.

"inkernel" (this package) runs student and test cells in one Jupyter kernel; "isolated"
(nngrade.sandbox.isolated) runs student code in a sandbox. Imports are lazy so a missing
or broken executor only fails when it is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.results import GradeReport, Limits


class Executor(Protocol):
    """The signature every executor implements."""

    def __call__(
        self,
        submission: Path,
        master: Path,
        *,
        assignment: str,
        limits: Limits,
        hidden: bool = True,
        student: str | None = None,
        new_in_master: frozenset[str] = frozenset(),
        markers: Markers = DEFAULT,
    ) -> GradeReport:
        """Grade one submission; a fault of the grader raises `GraderFault` (never a grade)."""


_MODULES = {"inkernel": "nngrade.grading.inkernel", "isolated": "nngrade.sandbox.isolated"}


def available(name: str) -> bool:
    """True when the executor's module can be imported."""
    try:
        get(name)
    except (ImportError, KeyError):
        return False
    return True


def default_name() -> str:
    """The isolated executor when it can be imported, otherwise the in-kernel one."""
    return "isolated" if available("isolated") else "inkernel"


def get(name: str) -> Callable[..., GradeReport]:
    """Return the `grade_notebook` function of executor `name`."""
    if name not in _MODULES:
        raise KeyError(f"unknown executor {name!r}; known: {', '.join(_MODULES)}")
    module = importlib.import_module(_MODULES[name])
    return module.grade_notebook
