"""A fresh copy of the kit for tests that run its commands as a newcomer would.

The copy holds what a clone would (tracked or new files, not ignored ones, as in the working
tree) and links `.venv` to this checkout's, where `make venv` has already run. It lives under
.test-cache/ (git-ignored), not /tmp: the grading sandbox keeps its own /tmp.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copy_kit(dest: Path) -> Path:
    """Copy the kit's files into `dest` (created) and link its .venv; returns `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


@contextmanager
def kit_copy(label: str) -> Iterator[tuple[Path, Path]]:
    """(copy of the kit, an empty home folder), removed afterwards."""
    base = ROOT / ".test-cache" / "kit-copies"
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(os.path.realpath(base)) / f"{label}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "home").mkdir(parents=True)
    try:
        yield copy_kit(folder / "kit"), folder / "home"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_env(kit: Path, home: Path) -> dict[str, str]:
    """This process's environment minus any activated venv; the copy's packages are imported."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONHOME"}}
    path = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and not (Path(p).parent / "pyvenv.cfg").is_file()
    ]
    env["PATH"] = os.pathsep.join(path) or "/usr/bin:/bin"
    # The venv was installed in editable mode from this checkout; these paths come first, so
    # the copy's packages (and the copy's course folder) are the ones that run.
    env["PYTHONPATH"] = os.pathsep.join([str(kit / "autograder"), str(kit / "helpers")])
    env["HOME"] = str(home)
    env.pop("NNGRADE_COURSE", None)
    return env
