"""Generate the student versions (release/) from the master copies (source/) and check for leaks.

`generate_release` runs `nbgrader generate_assignment` for each assignment into an output folder
(release/ by default), then `find_leaks` proves that no release notebook contains solution code,
hidden tests, their markers or outputs. `notebook_fingerprint` is the normalised form used to
compare a fresh release with the committed one.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import nbformat

from nngrade.grading.markers import (
    CODE_STUB,
    DEFAULT,
    HIDDEN,
    SOLUTION,
    TEXT_STUB,
    Markers,
    carried_secrets,
    flat,
    notebook_sources,
    region_lines,
    secret_lines,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = REPO_ROOT / "autograder"  # holds nbgrader_config.py, which nbgrader reads from cwd
# Where `generate_release` keeps work a student saved in release/ before replacing it.
RESCUE = Path("mywork") / "saved-from-release"
SKIPPED = {".ipynb_checkpoints", "__pycache__"}
ALLOW_HINT = "c.NNGrade.release_files in nbgrader_config.py"
SCAN_CAP = 20 * 2**20  # bytes of one file read when looking for markers


ReleaseFiles = Iterable[str] | Mapping[str, Iterable[str]]


class ReleaseError(RuntimeError):
    """nbgrader failed, or a generated release leaks solutions or hidden tests."""


def available_assignments(root: Path = REPO_ROOT) -> list[str]:
    """Every assignment with a master copy: the folders of root/source/ holding a notebook."""
    source = root / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate_release(
    assignments: Iterable[str] | None = None,
    output_dir: str | Path | None = None,
    *,
    root: Path = REPO_ROOT,
    config_dir: Path = CONFIG_DIR,
    markers: Markers = DEFAULT,
    database: bool = False,
    timeout: float = 300,
    release_files: ReleaseFiles = (),
) -> list[Path]:
    """Run nbgrader generate_assignment for `assignments` into `output_dir`/<assignment>/.

    nbgrader runs in `config_dir`, so it reads that course's nbgrader_config.py; `markers` are
    the same course's delimiters, for the leak check. No names: every assignment in source/.
    Each assignment's output folder is replaced, so no stale file survives. With
    `database=True` nbgrader also records the assignment in the course gradebook (needed
    before `nbgrader autograde`). Only the notebooks and the files matching `release_files`
    (glob patterns relative to the assignment's folder, for every assignment or per
    assignment name; see `shipped_files`) are released. Returns the generated notebooks;
    raises ReleaseError, before anything is written, if any file beside the masters carries
    markers or secret lines, and after, if nbgrader fails or a release notebook leaks.
    """
    names = list(assignments) if assignments is not None else available_assignments(root)
    output = Path(output_dir) if output_dir is not None else root / "release"
    output = output.resolve()
    notebooks: list[Path] = []
    for name in names:
        master_dir = root / "source" / name
        if not master_dir.is_dir():
            raise ReleaseError(f"no master copy for assignment {name!r}: {master_dir} is missing")
        allowed = shipped_files(master_dir, _patterns(release_files, name), markers)
        target = output / name
        if target.exists():
            for old, kept in rescue_student_work(target, master_dir, root / RESCUE / name):
                print(
                    f"release/{name}: {old.name} holds someone's work; kept a copy as {kept}",
                    file=sys.stderr,
                )
            shutil.rmtree(target)
        _run_nbgrader(
            name,
            root=root,
            release_dir=output,
            config_dir=config_dir,
            database=database,
            timeout=timeout,
        )
        _prune(target, allowed)
        generated = sorted(target.glob("*.ipynb"))
        if not generated:
            raise ReleaseError(f"nbgrader produced no notebook for {name!r} in {target}")
        leaks = [
            leak for path in generated for leak in find_leaks(master_dir / path.name, path, markers)
        ]
        if leaks:
            raise ReleaseError(f"release of {name!r} leaks:\n" + "\n".join(leaks))
        notebooks += generated
    return notebooks


def _patterns(release_files: ReleaseFiles, assignment: str) -> list[str]:
    if isinstance(release_files, Mapping):
        return list(release_files.get(assignment, ()))
    return list(release_files)


def shipped_files(
    master_dir: Path, patterns: Iterable[str], markers: Markers = DEFAULT
) -> set[str]:
    """The files of `master_dir` released besides its notebooks: those matching `patterns`
    (relative paths, `fnmatch` globs such as "data/*.csv"), regular files only.

    Every file of the folder that is not a notebook is first read for solution/hidden-test
    markers and for secret lines of the masters (a jupytext pair `hw4_mlp.py` holds both):
    such a file raises ReleaseError naming it, whether or not it was to be released, so a
    master's secrets never sit where a pattern, nbgrader or the sandbox could pick them up.
    """
    patterns = list(patterns)
    masters = sorted(master_dir.glob("*.ipynb"))
    secrets = secret_lines(notebook_sources(masters), (SOLUTION, HIDDEN), markers)
    allowed: set[str] = set()
    for path in sorted(master_dir.rglob("*")):
        relative = path.relative_to(master_dir)
        if SKIPPED & set(relative.parts) or path.is_dir() or path in masters:
            continue
        shown = f"source/{master_dir.name}/{relative.as_posix()}"
        if path.is_symlink() or not path.is_file():
            raise ReleaseError(
                f"{shown} is a symbolic link or special file: nothing was released. Keep only "
                "regular files beside the master copies"
            )
        with path.open("rb") as handle:
            text = handle.read(SCAN_CAP).decode("utf-8", errors="replace")
        found = carried_secrets(text, secrets, markers)
        if found:
            raise ReleaseError(
                f"{shown} carries solutions or hidden tests ({', '.join(found[:3])}): nothing "
                f"was released. Move it out of source/{master_dir.name}/ (a jupytext pair of "
                "the master belongs elsewhere), then release again"
            )
        if any(fnmatch.fnmatch(relative.as_posix(), pattern) for pattern in patterns):
            allowed.add(relative.as_posix())
    return allowed


def _prune(target: Path, allowed: set[str]) -> None:
    """Remove from a generated release folder whatever is neither a notebook nor allowed."""
    for path in sorted(target.rglob("*"), reverse=True):
        relative = path.relative_to(target).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
            continue
        if path.suffix == ".ipynb" and path.parent == target:
            continue
        if relative not in allowed:
            path.unlink()
            print(
                f"release/{target.name}: {relative} not released (not in {ALLOW_HINT})",
                file=sys.stderr,
            )


def holds_student_work(path: Path) -> bool:
    """Whether a release notebook was worked on: run (outputs) or an answer stub replaced."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # unreadable: keep it rather than guess
        return True
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            return True
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            stub = CODE_STUB[-1] if cell.cell_type == "code" else TEXT_STUB[0]  # as released
            if stub not in cell.source:
                return True
    return False


def rescue_student_work(
    release_dir: Path, master_dir: Path, keep_dir: Path
) -> list[tuple[Path, Path]]:
    """Copy what a student saved in release/<assignment>/ to keep_dir before it is replaced.

    Kept: notebooks that were worked on, and files nbgrader does not generate (not in the
    master folder). Never overwrites an earlier kept copy. Returns (original, copy) pairs.
    """
    import time

    kept = []
    for path in sorted(release_dir.rglob("*")):
        relative = path.relative_to(release_dir)
        if not path.is_file() or SKIPPED & set(relative.parts):
            continue
        generated = (master_dir / relative).is_file()
        if generated and not (path.suffix == ".ipynb" and holds_student_work(path)):
            continue
        copy = keep_dir / relative
        if copy.exists() and copy.read_bytes() != path.read_bytes():
            copy = copy.with_name(f"{copy.stem}-{time.strftime('%Y%m%d-%H%M%S')}{copy.suffix}")
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        kept.append((path, copy))
    return kept


def _run_nbgrader(
    name: str, *, root: Path, release_dir: Path, config_dir: Path, database: bool, timeout: float
) -> None:
    args = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        name,
        "--force",
        f"--CourseDirectory.root={root}",
        f"--CourseDirectory.release_directory={release_dir}",
    ]
    with tempfile.TemporaryDirectory(prefix="nngrade-release-") as scratch:
        if not database:
            args += ["--no-db", f"--CourseDirectory.db_url=sqlite:///{scratch}/gradebook.db"]
        done = subprocess.run(
            args, cwd=config_dir, capture_output=True, text=True, timeout=timeout, check=False
        )
    if done.returncode != 0:
        raise ReleaseError(
            f"nbgrader generate_assignment {name} failed (exit {done.returncode}):\n"
            f"{done.stderr[-3000:]}"
        )


# -- leak checks ------------------------------------------------------------------------------
def find_leaks(
    master_path: str | Path, release_path: str | Path, markers: Markers = DEFAULT
) -> list[str]:
    """Everything in a release notebook a student must not see: markers, secrets, outputs."""
    master = nbformat.read(master_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    secrets = secret_lines((c.source for c in master.cells), (SOLUTION, HIDDEN), markers)
    hidden = {flat(line) for c in master.cells for line in region_lines(c.source, HIDDEN, markers)}
    where = Path(release_path).name
    leaks = []
    for index, cell in enumerate(release.cells):
        for marker in markers.all():
            if marker in cell.source:
                leaks.append(f"{where} cell {index}: marker '{marker}'")
        for line in cell.source.splitlines():
            if flat(line) in secrets:
                kind = "hidden test" if flat(line) in hidden else "solution"
                leaks.append(f"{where} cell {index}: {kind} line '{line.strip()}'")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            leaks.append(f"{where} cell {index}: outputs are not cleared")
    return leaks


def notebook_fingerprint(path: str | Path) -> dict:
    """A notebook reduced to what matters for comparing releases (no ids, no timestamps)."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        entry = {
            "cell_type": cell.cell_type,
            "source": cell.source,
            "metadata": dict(cell.get("metadata", {})),
        }
        if cell.cell_type == "code":
            entry["outputs"] = cell.get("outputs", [])
        cells.append(entry)
    return {"kernelspec": nb.metadata.get("kernelspec", {}), "cells": cells}
