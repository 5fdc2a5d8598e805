"""nbgrader's exchange, driven by nngrade: release, collect and hand back feedback.

The exchange is nbgrader's own folder layout (Exchange.root/<course_id>/outbound, inbound,
feedback), so students use JupyterLab's nbgrader Assignment List unchanged: they fetch into
their own folder, work there and submit. Releasing assignments and feedback goes through
nbgrader's own exchange classes (ExchangeFactory, so a differently configured exchange is used
as configured). Collecting follows nbgrader's ExchangeCollect rules (the latest submission of
each student, its timestamp.txt and submission_secret.txt kept beside the notebooks, a newer
submission replaces an older one) but reports a malformed or unsafe entry of the world-writable
inbound folder and goes on with everyone else, where nbgrader stops at the first one.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nngrade.grading.config import Settings
from nngrade.grading.intake import CAP_HINT, copy_capped, id_problems, is_link_or_special

LOG = logging.getLogger("nngrade.grading.exchange")
# What nbgrader's exchange never copies (CourseDirectory.ignore's default).
IGNORED = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")
SAFE_STUDENT = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$")  # becomes a folder name
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


class ExchangeProblem(RuntimeError):
    """nbgrader's exchange refused an operation (its message says why)."""


def nbgrader_config(settings: Settings, assignment: str = "", student: str = ""):
    """The traitlets Config nbgrader's exchange classes need, built from nngrade's settings."""
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.root = str(settings.root)
    cfg.CourseDirectory.release_directory = str(settings.release)
    cfg.CourseDirectory.feedback_directory = str(settings.feedback)
    cfg.CourseDirectory.submitted_directory = str(settings.submitted)
    cfg.CourseDirectory.course_id = settings.course_id
    cfg.CourseDirectory.db_url = settings.db_url
    if assignment:
        cfg.CourseDirectory.assignment_id = assignment
    if student:
        cfg.CourseDirectory.student_id = student
    cfg.Exchange.root = str(settings.exchange)
    return cfg


def _run(settings: Settings, what: str, assignment: str, student: str = "", **traits) -> None:
    """Run one of nbgrader's exchange operations (ReleaseAssignment, ReleaseFeedback, ...)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeError, ExchangeFactory

    cfg = nbgrader_config(settings, assignment, student)
    coursedir = CourseDirectory(config=cfg)
    operation = getattr(ExchangeFactory(config=cfg), what)(
        coursedir=coursedir, authenticator=Authenticator(config=cfg), config=cfg, log=LOG
    )
    for name, value in traits.items():
        setattr(operation, name, value)
    try:
        operation.start()
    except ExchangeError as err:
        raise ExchangeProblem(f"nbgrader exchange, {what} {assignment}: {err}") from err


def outbound(settings: Settings) -> Path:
    """Where released assignments wait for students: <root>/<course_id>/outbound."""
    return settings.exchange / settings.course_id / "outbound"


def inbound(settings: Settings) -> Path:
    """Where students' submissions arrive: <root>/<course_id>/inbound."""
    return settings.exchange / settings.course_id / "inbound"


def release_assignments(settings: Settings, assignments: list[str]) -> list[Path]:
    """Publish release/<assignment>/ in the exchange (replacing an older release of it).

    Students' fetched copies are never touched: nbgrader's fetch refuses to overwrite them.
    """
    done = []
    for name in assignments:
        _run(settings, "ReleaseAssignment", name, force=True)
        done.append(outbound(settings) / name)
    return done


def release_missing(settings: Settings) -> list[str]:
    """Publish the assignments of release/ that the exchange does not offer yet."""
    offered = outbound(settings)
    if not settings.release.is_dir():
        return []
    missing = [
        p.name
        for p in sorted(settings.release.iterdir())
        if p.is_dir() and any(p.glob("*.ipynb")) and not (offered / p.name).is_dir()
    ]
    release_assignments(settings, missing)
    return missing


# -- collect ----------------------------------------------------------------------------------
@dataclass
class Submission:
    """One entry of the inbound folder: <student>+<assignment>+<timestamp>[+<random>]."""

    student: str
    timestamp: datetime
    path: Path


def parse_timestamp(text: str) -> datetime:
    """An exchange timestamp as naive UTC, by nbgrader.utils.parse_utc's rules.

    ("2026-11-30 21:39:19.104022 UTC"; a third word is a zone name or a numeric offset.)
    Written out here because importing nbgrader costs ~5 s of CPU, which `nngrade collect`
    would otherwise pay for nothing; a test checks it agrees with nbgrader's.
    """
    from dateutil import parser, tz

    parts = text.strip().split(" ")
    if len(parts) == 3:
        try:
            zone = int(parts[2])
        except ValueError:
            zone = tz.gettz(parts[2])
        stamp = parser.parse(" ".join([*parts[:2], "TZ"]), tzinfos={"TZ": zone})
    else:
        stamp = parser.parse(text)
    if stamp.tzinfo is not None:
        stamp = (stamp - stamp.utcoffset()).replace(tzinfo=None)
    return stamp


def _parse(entry: Path, assignment: str) -> Submission | str | None:
    """A Submission, a problem (str) for a malformed entry, or None if it is for another one."""
    parts = entry.name.rsplit("+", 3)
    if len(parts) < 3 or parts[1] != assignment:
        return None
    student = parts[0]
    if not SAFE_STUDENT.match(student):
        return f"inbound/{entry.name}: student id {student!r} is not a safe folder name"
    if entry.is_symlink() or not entry.is_dir():
        return f"inbound/{entry.name}: not a folder (a file or a symbolic link)"
    try:
        timestamp = parse_timestamp(parts[2])
    except (ValueError, OverflowError, TypeError):
        return f"inbound/{entry.name}: unreadable timestamp {parts[2]!r}"
    return Submission(student, timestamp, entry)


def latest_submissions(settings: Settings, assignment: str) -> tuple[list[Submission], list[str]]:
    """The newest submission of each student for `assignment`, and the entries skipped."""
    folder = inbound(settings)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the exchange has no inbound folder {folder}: run `nngrade release` first "
            "(or set Exchange.root in nbgrader_config.py)"
        )
    newest: dict[str, Submission] = {}
    problems = []
    for entry in sorted(folder.iterdir()):
        found = _parse(entry, assignment)
        if isinstance(found, str):
            problems.append(found)
        elif found is not None:
            old = newest.get(found.student)
            if old is None or found.timestamp > old.timestamp:
                newest[found.student] = found
    return [newest[s] for s in sorted(newest)], problems


def existing_timestamp(folder: Path) -> datetime | None:
    """The timestamp.txt of a collected submission (None when collected from a folder or zip)."""
    stamp = folder / "timestamp.txt"
    try:
        return parse_timestamp(stamp.read_text()) if stamp.is_file() else None
    except (ValueError, OverflowError, TypeError):
        return None


def _same_notebooks(a: Path, b: Path) -> bool:
    """Do two submission folders hold the same notebooks? Regular files only, hashed in
    chunks (a link or a huge file in the inbound folder is never followed or read whole)."""
    from nngrade.grading.records import file_hash

    names = {p.name for p in a.glob("*.ipynb")} | {p.name for p in b.glob("*.ipynb")}
    return all(
        not is_link_or_special(a / n)
        and not is_link_or_special(b / n)
        and (a / n).is_file()
        and (b / n).is_file()
        and file_hash(a / n) == file_hash(b / n)
        for n in names
    )


def collect(settings: Settings, assignment: str, notebooks: list[str], result, overwrite: bool):
    """Copy each student's latest exchange submission into submitted/<student>/<assignment>/.

    A collected submission is replaced only by a newer one (or, if it came from a folder or a
    zip and differs, with `overwrite`). Fills `result` (a collect.CollectResult).
    """
    import pwd

    result.layout = f"nbgrader exchange ({inbound(settings)})"
    submissions, skipped = latest_submissions(settings, assignment)
    result.problems += skipped
    twins = id_problems([sub.student for sub in submissions], settings.submitted)
    for student, problem in twins.items():
        result.problems.append(f"inbound: student id {student} {problem}; not collected")
    for sub in [sub for sub in submissions if sub.student not in twins]:
        label = f"{sub.student}/{assignment}"
        target = settings.submitted / sub.student / assignment
        names = {p.stem for p in sub.path.glob("*.ipynb") if not p.is_symlink()}
        missing = [n for n in notebooks if n not in names]
        if missing:
            result.problems.append(
                f"{label}: the submission of {sub.timestamp:%Y-%m-%d %H:%M} UTC lacks "
                + ", ".join(f"{n}.ipynb" for n in missing)
            )
        try:
            owner = pwd.getpwuid(os.stat(sub.path).st_uid).pw_name
        except KeyError:
            owner = "an unknown user"
        if owner != sub.student:  # as nbgrader's CollectApp.check_owner warns
            result.problems.append(
                f"{label}: submitted as {sub.student} but owned by {owner} (collected anyway)"
            )
        if target.is_dir():
            old = existing_timestamp(target)
            if old is not None and old >= sub.timestamp:
                result.unchanged.append(label)
                continue
            if old is None and not _same_notebooks(target, sub.path) and not overwrite:
                result.problems.append(
                    f"{label}: differs from the submission already collected from a folder or "
                    "zip; use --overwrite to replace it with the exchange's"
                )
                continue
            if old is None and _same_notebooks(target, sub.path):
                result.unchanged.append(label)
                continue
        max_bytes = int(settings.limits.max_submission_mb * 2**20)
        try:
            skipped = _copy_submission(sub.path, target, max_bytes, notebooks)
        except OSError as err:  # this student only
            result.problems.append(f"{label}: could not be collected ({err})")
            continue
        result.problems += [f"{label}: {problem}" for problem in skipped]
        if skipped and skipped[-1].startswith(NOTHING_USABLE):
            continue
        result.imported.append(f"{label} (submitted {sub.timestamp:%Y-%m-%d %H:%M:%S} UTC)")
    return result


NOTHING_USABLE = "not collected"
MAX_FILES = 1_000  # entries of one submission folder
TOTAL_FACTOR = 4  # a submission folder may hold this many times the per-file cap in all


def _copy_submission(
    source: Path, target: Path, max_bytes: int, notebooks: list[str] = ()
) -> list[str]:
    """Copy a submission folder into place as a whole (never half old, half new), by the
    rules of every other intake (`nngrade.grading.intake`): regular files only, links never
    followed, each file at most `max_bytes` (c.NNGrade.max_submission_mb), read in chunks.

    The inbound folder is writable by every student: a link followed by the instructor's copy
    could import a file the student cannot read (the master copy), a FIFO would block the
    copy, a link to /dev/zero or a sparse 40 GB file would fill the disk. Whatever is left out
    is returned, one line each, for the student's problems. A submission none of whose
    `notebooks` could be taken is not collected at all (the last line says so).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    skipped: list[str] = []
    budget = [max_bytes * TOTAL_FACTOR, MAX_FILES]  # bytes and entries left
    try:
        _copy_tree(source, staging / "new", source, max_bytes, budget, skipped)
        if notebooks and not any((staging / "new" / f"{n}.ipynb").is_file() for n in notebooks):
            skipped.append(f"{NOTHING_USABLE}: none of its notebooks could be taken")
            return skipped
        for path in [staging / "new", *(staging / "new").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # the inbound copy is read-only
        if target.is_symlink():
            target.unlink()  # never move a link planted in submitted/
        elif target.exists():
            target.rename(staging / "old")
        (staging / "new").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.exists():
            with contextlib.suppress(OSError):  # a student folder made for nothing
                target.parent.rmdir()
    return skipped


def _copy_tree(
    folder: Path, into: Path, top: Path, max_bytes: int, budget: list[int], skipped: list[str]
) -> None:
    into.mkdir()
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        shown = Path(entry.path).relative_to(top).as_posix()
        if any(fnmatch.fnmatch(entry.name, pattern) for pattern in IGNORED):
            continue
        budget[1] -= 1
        if budget[1] < 0:
            skipped.append(f"more than {MAX_FILES} files; {shown} and later ones not collected")
            return
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            skipped.append(f"symbolic link {shown} not collected (links are never followed)")
        elif stat.S_ISDIR(info.st_mode):
            _copy_tree(Path(entry.path), into / entry.name, top, max_bytes, budget, skipped)
        elif not stat.S_ISREG(info.st_mode):
            skipped.append(
                f"{shown} is not a regular file (a FIFO, socket or device); not collected"
            )
        elif info.st_size > min(max_bytes, budget[0]):
            skipped.append(
                f"{shown} is {info.st_size / 2**20:.0f} MB, over the "
                f"{max_bytes / 2**20:g} MB limit ({CAP_HINT}); not collected"
            )
        elif not _copy_file(Path(entry.path), into / entry.name, max_bytes):
            skipped.append(
                f"{shown} changed while it was copied (grew or became a link); not collected"
            )
        else:
            budget[0] -= info.st_size


def _copy_file(path: Path, target: Path, max_bytes: int) -> bool:
    """Copy one regular file, never through a link, at most `max_bytes`; False if it is not
    (any more) a regular file of that size."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            return False
        return copy_capped(src, target, max_bytes)


# -- feedback ---------------------------------------------------------------------------------
def place_feedback(settings: Settings, student: str, assignment: str, notebooks: list[str]) -> bool:
    """Lay out feedback/<student>/<assignment>/ as nbgrader generate_feedback does.

    One <notebook>.html per submitted notebook plus the submission's timestamp.txt and
    submission_secret.txt. Returns whether the submission came through the exchange (has a
    secret), i.e. whether nbgrader can hand this feedback back.
    """
    folder = settings.feedback / student / assignment
    page = folder / f"{assignment}.html"
    submitted = settings.submitted / student / assignment
    if not page.is_file():
        return False
    for name in notebooks:
        if name != assignment:
            shutil.copyfile(page, folder / f"{name}.html")
    through_exchange = all((submitted / f).is_file() for f in SUBMISSION_FILES)
    for name in SUBMISSION_FILES:
        if through_exchange:
            shutil.copyfile(submitted / name, folder / name)
        else:
            (folder / name).unlink(missing_ok=True)  # stale, from an earlier submission
    return through_exchange


def release_feedback(settings: Settings, assignment: str, students: list[str]) -> list[str]:
    """Hand back the feedback of students who submitted through the exchange.

    Uses nbgrader's ReleaseFeedback, so the Assignment List's "Fetch Feedback" finds it.
    Returns the students whose feedback was released.
    """
    notebooks = [p.stem for p in settings.masters(assignment) or settings.released(assignment)]
    released = []
    for student in students:
        if place_feedback(settings, student, assignment, notebooks):
            _run(settings, "ReleaseFeedback", assignment, student)
            released.append(student)
    return released


# -- the student's workspace ------------------------------------------------------------------
WORKSPACE = "mywork"  # below CourseDirectory.root (the repository), git-ignored
WORKSPACE_CONFIG = '''"""nbgrader settings of this workspace, written by `make lab`.

JupyterLab's Assignment List reads them: it fetches assignments into this folder, submits from
it, and fetches feedback into <assignment>/feedback/. Edit autograder/nbgrader_config.py, not
this file (it is rewritten by `make lab`).
"""

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.Exchange.assignment_dir = {folder!r}
c.Exchange.cache = {cache!r}
'''


def prepare_workspace(settings: Settings, folder: Path, lectures: Path | None = None) -> Path:
    """Make the student's JupyterLab folder: lectures (a link), nbgrader settings, assignments.

    Nothing the student saved there is touched. Assignments of release/ that the exchange does
    not offer yet are published to it, so a student on their own clone finds them in the
    Assignment List.
    """
    folder = folder.absolute()
    folder.mkdir(parents=True, exist_ok=True)
    lectures = lectures or settings.root / "notebooks"
    link = folder / lectures.name
    if lectures.is_dir() and not link.exists() and not link.is_symlink():
        link.symlink_to(Path(_relative(lectures, folder)), target_is_directory=True)
    text = WORKSPACE_CONFIG.format(
        course_id=settings.course_id,
        exchange=str(settings.exchange),
        folder=str(folder),
        cache=str(folder / ".nbgrader_cache"),
    )
    config = folder / "nbgrader_config.py"
    if not config.is_file() or config.read_text() != text:
        config.write_text(text)
    release_missing(settings)
    return folder


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), start.resolve())
