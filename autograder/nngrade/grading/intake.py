"""What the grader accepts as a submitted file: a regular file, never a link, within a size cap.

One check for every place that opens a student's file (collect, autograde's plan, prepare): a
FIFO or a link to /dev/zero would block or flood the grader, a symbolic link could import the
master or another student's work, and a 40 GB sparse file would be read whole. Such a file
becomes that student's status with a reason; everybody else is graded.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path
from typing import BinaryIO

CAP_HINT = "c.NNGrade.max_submission_mb in nbgrader_config.py"


def submission_problem(path: Path, max_mb: float, root: Path | None = None) -> str:
    """Why `path` cannot be taken as a submission ("" when it can); never follows a link,
    neither the file nor (with `root`) a folder between `root` and it."""
    if root is not None:
        folder = path.parent
        while folder != root and root in folder.parents:
            if folder.is_symlink():
                return f"{folder.name}/ is a symbolic link (links are never followed)"
            folder = folder.parent
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return f"{path.name} is missing: no such file was submitted"
    except OSError as err:
        return f"{path.name} cannot be read ({err.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return f"{path.name} is a symbolic link (links are never followed; submit the file itself)"
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file (a folder, FIFO or device); submit the notebook"
    if info.st_size > max_mb * 2**20:
        return (
            f"{path.name} is {info.st_size / 2**20:.0f} MB, over the {max_mb:g} MB limit for a "
            f"submission ({CAP_HINT}); clear outputs and submit again"
        )
    return ""


def is_link_or_special(path: Path) -> bool:
    """True for a symbolic link or anything that is neither a regular file nor a folder."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return True
    return stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def copy_capped(src: BinaryIO, target: Path, max_bytes: int) -> bool:
    """Copy `src` to `target` in 1 MB chunks, stopping past `max_bytes` (the copy is then
    removed and False returned): a size that lies, or a stream without end, costs at most that."""
    written = 0
    with target.open("wb") as dst:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > max_bytes:
                break
            dst.write(chunk)
    if written > max_bytes:
        target.unlink()
        return False
    return True


MAX_ID_CHARS = 100  # nbgrader's gradebook keeps ids up to 128 characters


def student_id_problem(student: str) -> str:
    """Why a folder name cannot be a student id ("" when it can). An id becomes a gradebook key,
    a folder, a CSV cell and a line printed to the instructor: control and format characters
    (newlines, escapes, bidi controls, zero-width marks) would let it pose as another student
    or hide in a listing, and an overlong one breaks the gradebook or the file system."""
    if not student or student in (".", ".."):
        return "is not a usable student id"
    if len(student) > MAX_ID_CHARS:
        return f"is {len(student)} characters long, over the {MAX_ID_CHARS} of a student id"
    bad = sorted(
        {f"U+{ord(c):04X}" for c in student if unicodedata.category(c)[0] in "CZ"} - {"U+0020"}
    )
    if bad:
        return (
            f"contains control, format or separator characters ({', '.join(bad[:5])}); "
            "rename the folder"
        )
    if student != student.strip():
        return "starts or ends with a space; rename the folder"
    return ""


def id_key(student: str) -> str:
    """Two ids with the same key are the same person to a reader (and to a case-insensitive or
    normalising file system): `é` composed or decomposed, `Alice` and `alice`."""
    return unicodedata.normalize("NFKC", student).casefold()


def id_problems(students: list[str], submitted: Path) -> dict[str, str]:
    """Why each unusable id of `students` cannot be imported: `student_id_problem`, or the same
    id as another one of them, or as a student already in `submitted`, up to `id_key`."""
    try:
        before = [p.name for p in submitted.iterdir()] if submitted.is_dir() else []
    except OSError:
        before = []
    keys: dict[str, set[str]] = {}
    for name in [*students, *before]:
        keys.setdefault(id_key(name), set()).add(name)
    problems = {}
    for student in students:
        problem = student_id_problem(student)
        twins = sorted(keys[id_key(student)] - {student})
        if not problem and twins:
            problem = (
                f"is the same id as {', '.join(map(repr, twins[:3]))} up to case or Unicode "
                "normalisation (one person, or two the gradebook and a reader would confuse)"
            )
        if problem:
            problems[student] = problem
    return problems
