"""Generate the student versions (release/) from the master copies (source/) and check for leaks.

`generate_release` runs `nbgrader generate_assignment` for each assignment into an output folder
(release/ by default), then `find_leaks` proves that no release notebook contains solution code,
hidden tests, their markers or outputs. `notebook_fingerprint` is the normalised form used to
compare a fresh release with the committed one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = REPO_ROOT / "autograder"  # holds nbgrader_config.py, which nbgrader reads from cwd
ASSIGNMENTS = ("lab1_perceptron_gd", "lab2_softmax_backprop", "hw4_mlp")
MARKERS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "BEGIN MARK SCHEME",
    "END MARK SCHEME",
)
MIN_LEAK_CHARS = 20  # shorter lines (`return y`, `else:`) are too generic to call a leak
# Where `generate_release` keeps work a student saved in release/ before replacing it.
RESCUE = Path("mywork") / "saved-from-release"
CODE_STUB = "raise NotImplementedError()"  # nbgrader's ClearSolutions stubs, in every answer
TEXT_STUB = "YOUR ANSWER HERE"
SKIPPED = {".ipynb_checkpoints", "__pycache__"}


class ReleaseError(RuntimeError):
    """nbgrader failed, or a generated release leaks solutions or hidden tests."""


def available_assignments(root: Path = REPO_ROOT) -> list[str]:
    """The course's assignments that have a master copy in root/source/."""
    return [name for name in ASSIGNMENTS if (root / "source" / name).is_dir()]


def generate_release(
    assignments: Iterable[str] | None = None,
    output_dir: str | Path | None = None,
    *,
    root: Path = REPO_ROOT,
    database: bool = False,
    timeout: float = 300,
) -> list[Path]:
    """Run nbgrader generate_assignment for `assignments` into `output_dir`/<assignment>/.

    Each assignment's output folder is replaced, so no stale file survives. With
    `database=True` nbgrader also records the assignment in the course gradebook (needed
    before `nbgrader autograde`). Returns the generated notebooks; raises ReleaseError if
    nbgrader fails or a release notebook leaks anything.
    """
    names = list(assignments) if assignments is not None else available_assignments(root)
    output = Path(output_dir) if output_dir is not None else root / "release"
    output = output.resolve()
    notebooks: list[Path] = []
    for name in names:
        master_dir = root / "source" / name
        if not master_dir.is_dir():
            raise ReleaseError(f"no master copy for assignment {name!r}: {master_dir} is missing")
        target = output / name
        if target.exists():
            for old, kept in rescue_student_work(target, master_dir, root / RESCUE / name):
                print(
                    f"release/{name}: {old.name} holds someone's work; kept a copy as {kept}",
                    file=sys.stderr,
                )
            shutil.rmtree(target)
        _run_nbgrader(name, root=root, release_dir=output, database=database, timeout=timeout)
        generated = sorted(target.glob("*.ipynb"))
        if not generated:
            raise ReleaseError(f"nbgrader produced no notebook for {name!r} in {target}")
        leaks = [leak for path in generated for leak in find_leaks(master_dir / path.name, path)]
        if leaks:
            raise ReleaseError(f"release of {name!r} leaks:\n" + "\n".join(leaks))
        notebooks += generated
    return notebooks


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
            stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
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
    name: str, *, root: Path, release_dir: Path, database: bool, timeout: float
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
            args, cwd=CONFIG_DIR, capture_output=True, text=True, timeout=timeout, check=False
        )
    if done.returncode != 0:
        raise ReleaseError(
            f"nbgrader generate_assignment {name} failed (exit {done.returncode}):\n"
            f"{done.stderr[-3000:]}"
        )


# -- leak checks ------------------------------------------------------------------------------
def _blocks(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """Split a cell's lines into those inside begin/end blocks and those outside."""
    inside, outside, within = [], [], False
    for line in source.splitlines():
        if begin in line:
            within = True
        elif end in line:
            within = False
        elif within:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def _key(line: str) -> str:
    return re.sub(r"\s+", "", line)


def secret_lines(master: nbformat.NotebookNode) -> dict[str, str]:
    """Substantial solution and hidden-test lines of a master notebook, keyed by normalised text.

    A line that also appears outside every solution/hidden block (a function signature, a
    shared import) is not secret.
    """
    secret: dict[str, str] = {}
    public: set[str] = set()
    for cell in master.cells:
        text = cell.source
        for begin, end, kind in (
            ("BEGIN SOLUTION", "END SOLUTION", "solution"),
            ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "hidden test"),
        ):
            inside, text_lines = _blocks(text, begin, end)
            text = "\n".join(text_lines)
            for line in inside:
                key = _key(line)
                if len(key) >= MIN_LEAK_CHARS and not line.strip().startswith("#"):
                    secret.setdefault(key, f"{kind} line '{line.strip()}'")
        public |= {_key(line) for line in text.splitlines()}
    return {key: what for key, what in secret.items() if key not in public}


def find_leaks(master_path: str | Path, release_path: str | Path) -> list[str]:
    """Everything in a release notebook a student must not see: markers, secrets, outputs."""
    master = nbformat.read(master_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    secrets = secret_lines(master)
    where = Path(release_path).name
    leaks = []
    for index, cell in enumerate(release.cells):
        for marker in MARKERS:
            if marker in cell.source:
                leaks.append(f"{where} cell {index}: marker '### {marker}'")
        for line in cell.source.splitlines():
            if _key(line) in secrets:
                leaks.append(f"{where} cell {index}: {secrets[_key(line)]}")
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
