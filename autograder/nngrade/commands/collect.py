"""`nngrade collect`: import a class's submissions into submitted/<student>/<assignment>/.

Three sources are understood, and nothing else is guessed:
- nbgrader's exchange (no SOURCE given): each student's latest submission from the Assignment
  List, with its timestamp (see nngrade.grading.exchange);
- per-student folders: SOURCE/<student>/[<assignment>/]<notebook>.ipynb
- an LMS bulk download (Canvas style), as a zip or a folder of files named
  <name>[_late]_<user id>_<submission id>_<original file name>; the student id is the user id.
Files that fit neither, and students with more than one candidate file for a notebook, are
reported and not imported.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from nngrade.grading.config import Settings
from nngrade.grading.intake import (
    CAP_HINT,
    copy_capped,
    id_problems,
    is_link_or_special,
    submission_problem,
)
from nngrade.grading.records import file_hash
from nngrade.grading.safe_text import escaped

CANVAS = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9-]*?)(?:_late)?_(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
    re.IGNORECASE,
)
RESUBMISSION = re.compile(r"-\d+$")  # Canvas adds -1, -2 to a re-uploaded file name
IGNORED = {".DS_Store", "__MACOSX", ".ipynb_checkpoints", "Thumbs.db"}


@dataclass
class CollectResult:
    """What collect did, for the instructor."""

    layout: str = "unknown"
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A readable summary."""
        lines = [
            f"layout: {self.layout}; imported {len(self.imported)}, unchanged "
            f"{len(self.unchanged)}, problems {len(self.problems)}"
        ]
        lines += [f"  imported {escaped(entry)}" for entry in self.imported]
        lines += [f"  PROBLEM: {escaped(entry)}" for entry in self.problems]
        return "\n".join(lines)


MAX_ZIP_MEMBERS = 100_000


def _visible(folder: Path, result: CollectResult | None = None) -> list[Path]:
    """Entries of `folder` worth looking at; symbolic links and special files (FIFOs,
    devices) are reported and left out: a link is never followed."""
    kept = []
    for p in sorted(folder.iterdir()):
        if p.name in IGNORED or p.name.startswith("."):
            continue
        if is_link_or_special(p):
            if result is not None:
                result.problems.append(
                    f"{folder.name}/{p.name}: "
                    "a symbolic link or special file (never followed, not imported)"
                )
            continue
        kept.append(p)
    return kept


def _extract(source: Path, scratch: Path, max_bytes: int, result: CollectResult) -> None:
    """Extract a zip member by member, streaming at most `max_bytes` of each (a zip bomb's
    members are cut off and reported, whatever their headers claim). A member that cannot be
    taken (outside the folder, a link, a duplicate, corrupt, encrypted, a name the file
    system refuses) is reported and left out; the others are extracted."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise ZipProblem(f"{source.name} cannot be read as a zip ({err})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ZipProblem(f"{source.name} holds {len(members)} files (over {MAX_ZIP_MEMBERS})")
        counts: dict[str, int] = {}
        for info in members:
            counts[info.filename] = counts.get(info.filename, 0) + 1
        root = scratch.resolve()
        for info in members:
            shown = repr(info.filename)[1:-1][:200]
            problem = _member_problem(info, scratch, root, counts)
            if problem:
                result.problems.append(f"zip member {shown}: {problem}; not imported")
                continue
            if info.is_dir():
                continue
            target = scratch / info.filename
            if info.file_size > max_bytes:
                result.problems.append(
                    f"{shown}: {info.file_size / 2**20:.0f} MB once unzipped, over the "
                    f"{max_bytes / 2**20:g} MB limit ({CAP_HINT}); not imported"
                )
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src:
                    copied = copy_capped(src, target, max_bytes)
            except (
                OSError,
                zipfile.BadZipFile,
                RuntimeError,
                NotImplementedError,
                EOFError,
                ValueError,
                zlib.error,
            ) as err:  # corrupt, encrypted, unsupported, bad name
                with contextlib.suppress(OSError):
                    target.unlink()
                result.problems.append(
                    f"zip member {shown}: cannot be extracted ({type(err).__name__}: "
                    f"{str(err)[:200]}); not imported"
                )
                continue
            if not copied:
                result.problems.append(
                    f"{shown}: over the {max_bytes / 2**20:g} MB limit once unzipped "
                    f"({CAP_HINT}); not imported"
                )


class ZipProblem(Exception):
    """The class zip as a whole cannot be read (collect reports it, imports nothing)."""


def _member_problem(
    info: zipfile.ZipInfo, scratch: Path, root: Path, counts: dict[str, int]
) -> str:
    """Why a zip member is left out ("" when it is extracted)."""
    name = info.filename
    if "\0" in name or any(part in (".", "..") for part in re.split(r"[/\\]", name)):
        return "a name with '..', '.' or NUL (outside the class folder)"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute name (outside the class folder)"
    target = (scratch / name).resolve()
    if not target.is_relative_to(root) or target == root:
        return "outside the class folder"
    if counts[name] > 1:
        return f"appears {counts[name]} times in the zip (which one is meant is unknown)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link (never followed)"
    return ""


def _match_notebook(filename: str, notebooks: list[str]) -> str | None:
    """The master notebook a submitted file is for (exact stem, or a Canvas -N copy)."""
    stem = Path(filename).stem
    if stem in notebooks:
        return stem
    if RESUBMISSION.sub("", stem) in notebooks:
        return RESUBMISSION.sub("", stem)
    if len(notebooks) == 1 and filename.endswith(".ipynb"):
        return notebooks[0]
    return None


def _per_student(
    folder: Path, assignment: str, notebooks: list[str], result: CollectResult
) -> dict[str, dict[str, Path]]:
    found: dict[str, dict[str, Path]] = {}
    for student_dir in _visible(folder, result):
        try:
            _one_student(student_dir, assignment, notebooks, result, found)
        except OSError as err:  # vanished or unreadable meanwhile: this student only
            result.problems.append(
                f"{student_dir.name}: cannot be read ({type(err).__name__}: {err.strerror})"
            )
    return found


def _one_student(
    student_dir: Path,
    assignment: str,
    notebooks: list[str],
    result: CollectResult,
    found: dict[str, dict[str, Path]],
) -> None:
    """The notebooks of one student folder into `found` (or a problem)."""
    if not student_dir.is_dir():
        result.problems.append(f"{student_dir.name}: a file among student folders (ignored)")
        return
    sub = student_dir / assignment
    inner = sub if sub.is_dir() and not is_link_or_special(sub) else student_dir
    candidates: dict[str, list[Path]] = {}
    for path in _visible(inner, result):
        if path.suffix != ".ipynb":
            continue
        target = _match_notebook(path.name, notebooks)
        if target:
            candidates.setdefault(target, []).append(path)
    if not candidates:
        result.problems.append(f"{student_dir.name}: no notebook for {assignment!r} found")
        return
    for notebook, paths in candidates.items():
        exact = [p for p in paths if p.stem == notebook]
        if len(paths) > 1 and len(exact) != 1:
            result.problems.append(
                f"{student_dir.name}: {len(paths)} candidate files for {notebook}.ipynb "
                f"({', '.join(p.name for p in paths)}); keep one and collect again"
            )
            continue
        found.setdefault(student_dir.name, {})[notebook] = exact[0] if exact else paths[0]


def _usable_ids(
    found: dict[str, dict[str, Path]], submitted: Path, result: CollectResult
) -> dict[str, dict[str, Path]]:
    """`found` without students whose id is unusable (`intake.id_problems`)."""
    problems = id_problems(list(found), submitted)
    for student, problem in problems.items():
        result.problems.append(f"{student}: the folder name {problem}; not imported")
    return {s: by_notebook for s, by_notebook in found.items() if s not in problems}


def _bulk(
    files: list[Path], notebooks: list[str], result: CollectResult
) -> dict[str, dict[str, Path]]:
    grouped: dict[tuple[str, str], list[Path]] = {}
    for path in files:
        match = CANVAS.match(path.name)
        notebook = _match_notebook(match["file"], notebooks) if match else None
        if not match or not notebook or path.suffix != ".ipynb":
            result.problems.append(f"{path.name}: unknown file name layout (not imported)")
            continue
        grouped.setdefault((match["id"], notebook), []).append(path)
    found: dict[str, dict[str, Path]] = {}
    for (student, notebook), paths in grouped.items():
        if len(paths) > 1:
            result.problems.append(
                f"student {student}: duplicate submissions for {notebook}.ipynb "
                f"({', '.join(p.name for p in paths)}); not imported, keep one and collect again"
            )
            continue
        found.setdefault(student, {})[notebook] = paths[0]
    return found


def collect(
    source: Path | None, assignment: str, settings: Settings, *, overwrite: bool = False
) -> CollectResult:
    """Import submissions (from the exchange when `source` is None); says what and what not."""
    result = CollectResult()
    notebooks = [p.stem for p in settings.masters(assignment) or settings.released(assignment)]
    if not notebooks:
        raise FileNotFoundError(f"no master or release notebooks for {assignment!r}")
    if source is None:
        from nngrade.grading import exchange

        return exchange.collect(settings, assignment, notebooks, result, overwrite)
    max_mb = settings.limits.max_submission_mb
    max_bytes = int(max_mb * 2**20)
    with tempfile.TemporaryDirectory(prefix="nngrade-collect-") as scratch:
        if source.is_file() and zipfile.is_zipfile(source):
            try:
                _extract(source, Path(scratch), max_bytes, result)
            except ZipProblem as err:
                result.layout = "zip"
                result.problems.append(f"{err}; nothing imported")
                return result
            folder = Path(scratch)
            entries = _visible(folder)
            if len(entries) == 1 and entries[0].is_dir() and not CANVAS.match(entries[0].name):
                folder = entries[0]  # a zip of one folder
        elif source.is_dir():
            folder = source
        else:
            raise FileNotFoundError(f"{source} is neither a folder nor a zip file")
        entries = _visible(folder, result)
        folders = [p for p in entries if p.is_dir()]
        canvas_files = [p for p in entries if p.is_file() and CANVAS.match(p.name)]
        if folders and len(folders) >= len(canvas_files):  # stray files: reported one by one
            result.layout = "per-student folders"
            found = _per_student(folder, assignment, notebooks, result)
        elif entries:
            result.layout = "LMS bulk download (Canvas file names)"
            for stray in folders:
                result.problems.append(f"{stray.name}: a folder among Canvas files (ignored)")
            found = _bulk([p for p in entries if p.is_file()], notebooks, result)
        else:
            result.problems.append(
                f"{source}: is empty; expected one folder per student, or a flat Canvas-style "
                "download"
            )
            found = {}
        found = _usable_ids(found, settings.submitted, result)
        for student, by_notebook in sorted(found.items()):
            for notebook, path in by_notebook.items():
                label = f"{student}/{notebook}"
                problem = submission_problem(path, max_mb)
                if problem:
                    result.problems.append(f"{label}: {problem}; not imported")
                    continue
                try:
                    _import(
                        path,
                        settings.submitted / student / assignment / f"{notebook}.ipynb",
                        label,
                        overwrite,
                        result,
                        max_bytes,
                    )
                except OSError as err:  # this student only
                    result.problems.append(f"{label}: could not be imported ({err})")
    return result


def _import(
    path: Path, target: Path, label: str, overwrite: bool, result: CollectResult, max_bytes: int
) -> None:
    if target.is_symlink():
        target.unlink()  # never write through a link planted in submitted/
    if target.is_file():
        if file_hash(target) == file_hash(path):
            result.unchanged.append(label)
            return
        if not overwrite:
            result.problems.append(
                f"{label}: differs from the submission already collected; "
                "use --overwrite to replace it"
            )
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)  # a file swapped for a link or FIFO since the check: refused
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        tmp = target.with_name(f".{target.name}.part")
        if not copy_capped(src, tmp, max_bytes):  # grew past the cap since it was checked
            raise OSError(f"{path.name} grew over the size limit while it was copied")
        os.replace(tmp, target)
    result.imported.append(label)
