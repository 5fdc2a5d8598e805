"""Tell faults of the grader from faults of the submission.

A grader fault (the kernel or sandbox did not start, a package of the grading environment is
missing, the disk is full) says nothing about the student's work: it becomes a
`GraderFault`, never a grade. These helpers recognise the common ones where they surface.
"""

from __future__ import annotations

import errno

import nbformat

from nngrade.grading.prepare import nbgrader_meta
from nngrade.grading.results import GraderFault

IMPORT_ERRORS = {"ModuleNotFoundError", "ImportError"}
FIX_PACKAGES = (
    "install the course's requirements into the Python the grader runs "
    "(`make venv`, or `pip install -r requirements/course.txt -c requirements/constraints.txt`), "
    "then run the same command again"
)
FIX_DISK = "free disk space (or point the course folder elsewhere), then run the same command again"
FIX_KERNEL = (
    "check that the `python3` Jupyter kernel of the grader's environment starts "
    "(`.venv/bin/python -m ipykernel install --sys-prefix --name python3`, or `make venv`), "
    "then run the same command again"
)


def from_os_error(err: OSError) -> GraderFault | None:
    """A GraderFault for errors of the machine itself (no space left, quota exceeded)."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return GraderFault(f"the grader ran out of disk space ({err})", FIX_DISK)
    return None


def kernel_did_not_start(detail: str) -> GraderFault:
    """The grading kernel (not the student's code) failed to start."""
    return GraderFault(f"the grading kernel could not start ({detail})", FIX_KERNEL)


def master_setup_failed(nb: nbformat.NotebookNode) -> GraderFault | None:
    """A missing package, seen in the master's own set-up cells before any student code ran.

    Only locked master cells that precede the first student cell count: nothing the student
    wrote has run yet, so an ImportError there is the grading environment's, never the
    student's (and a student cannot provoke it to dodge grading).
    """
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = nbgrader_meta(cell)
        if not meta.get("locked") or meta.get("solution") or meta.get("grade"):
            return None  # student code (or a test) from here on
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") in IMPORT_ERRORS:
                return GraderFault(
                    f"the grading kernel cannot import a package the assignment needs "
                    f"({output.get('ename')}: {output.get('evalue')})",
                    FIX_PACKAGES,
                )
    return None
