"""Stand-ins for `grade_task` run in real worker processes (importable by spawned workers)."""

from __future__ import annotations

import os
import time

from nngrade.grading.results import GradeReport


def grade_or_die(task, assignment, limits, executor, markers) -> GradeReport:
    """Kill the worker for a student named "crasher*" (as the OOM killer would); grade the
    others with a score equal to the length of their name."""
    if task.student.startswith("crasher"):
        time.sleep(0.3)  # others are in flight when the pool breaks
        os._exit(137)
    time.sleep(0.1)
    return GradeReport(assignment, task.student, "graded", "", [], None)
