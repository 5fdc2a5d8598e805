"""`nngrade collect` from nbgrader's exchange takes files by the rules of every other intake
(issue 13): regular files only, links never followed, each file within the size cap; a bad
entry is that student's problem, everybody else is collected, and `collect` says so and exits
non-zero when nothing at all was imported."""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest
from nngrade.cli import main
from nngrade.commands.collect import collect
from nngrade.grading import exchange
from nngrade.grading.config import load
from nngrade_support import make_course

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
from batch_attacks import FILE_ATTACKS  # noqa: E402

STAMP = "2026-11-06 08:00:00.000000 UTC"


def _entry(settings, student: str, stamp_file: bool = True) -> Path:
    folder = exchange.inbound(settings) / f"{student}+tiny+{STAMP}+x"
    folder.mkdir(parents=True)
    if stamp_file:
        (folder / "timestamp.txt").write_text(STAMP)
    return folder


def _honest(settings, student: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# {student}")])
    nbformat.write(nb, str(_entry(settings, student) / "tiny.ipynb"))


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        status = main(list(args))
    return status, out.getvalue()


@pytest.fixture
def settings(tmp_path):
    config = make_course(tmp_path)
    (config / "nbgrader_config.py").open("a").write("c.NNGrade.max_submission_mb = 1\n")
    return load(config)


def test_exchange_collect_applies_the_intake_rules(settings):
    master = settings.masters("tiny")[0]
    _honest(settings, "alice")
    for attack in FILE_ATTACKS:
        notebook = _entry(settings, attack.name.replace("_", "-"), False) / "tiny.ipynb"
        attack.plant(notebook, master)
    nested = _entry(settings, "nested") / "sub"
    nested.mkdir()
    (nested / "master.ipynb").symlink_to(master)  # a link deeper in the folder
    (nested / "big.bin").write_bytes(b"x" * (2 * 2**20))  # over the 1 MB cap
    (nested.parent / "tiny.ipynb").write_text((master.parent / "tiny.ipynb").read_text())

    result = collect(None, "tiny", settings)  # must not block on the FIFO or read /dev/zero
    imported = {entry.split("/")[0] for entry in result.imported}
    assert "alice" in imported
    problems = "\n".join(result.problems)
    for student, expected in [
        ("link-to-master", "symbolic link tiny.ipynb not collected"),
        ("link-to-dev-zero", "symbolic link tiny.ipynb not collected"),
        ("fifo", "tiny.ipynb is not a regular file"),
        ("sparse-3gb", "tiny.ipynb is 3072 MB, over the 1 MB limit"),
        ("folder-link", "not a folder (a file or a symbolic link)"),
        ("nested", "symbolic link sub/master.ipynb not collected"),
        ("nested", "sub/big.bin is 2 MB, over the 1 MB limit"),
    ]:
        assert any(
            student in line.split(":")[0] and expected in line for line in result.problems
        ), (
            student,
            expected,
            problems,
        )
    submitted = settings.submitted
    for student in ("link-to-master", "link-to-dev-zero", "fifo", "sparse-3gb"):
        copy = submitted / student / "tiny" / "tiny.ipynb"
        assert not copy.exists() and not copy.is_symlink(), student
    assert not (submitted / "folder-link").exists()
    nested_copy = submitted / "nested" / "tiny"
    assert (nested_copy / "tiny.ipynb").is_file()
    assert not (nested_copy / "sub" / "master.ipynb").exists()
    assert not (nested_copy / "sub" / "big.bin").exists()
    for path in submitted.rglob("*"):
        assert not path.is_symlink() and (path.is_dir() or path.is_file()), path
        assert path.is_dir() or path.stat().st_size <= 2**20, path


def test_collect_exits_non_zero_when_nothing_was_imported(settings):
    os.makedirs(exchange.inbound(settings))
    status, out = _run("collect", "tiny", "--course", str(settings.config_dir))
    assert status == 1, out
    assert "nothing was imported for 'tiny' from nbgrader's exchange" in out

    os.mkfifo(_entry(settings, "mallory") / "tiny.ipynb")  # the only submission: refused
    status, out = _run("collect", "tiny", "--course", str(settings.config_dir))
    assert status == 1, out
    assert "mallory/tiny: tiny.ipynb is not a regular file" in out
    assert "mallory/tiny: not collected: none of its notebooks could be taken" in out
    assert not (settings.submitted / "mallory").exists()

    _honest(settings, "alice")
    status, out = _run("collect", "tiny", "--course", str(settings.config_dir))
    assert status == 0, out
    status, out = _run("collect", "tiny", "--course", str(settings.config_dir))
    assert status == 0 and "unchanged 1" in out, out  # a re-run imports nothing new: fine


def test_exchange_student_id_twins_not_collected(settings):
    """Ids that differ only in case (`Mallory`, `mallory`) are one person to a reader and to a
    case-insensitive file system: neither is collected, each named; others are."""
    for student in ("alice", "Mallory", "mallory"):
        _honest(settings, student)
    result = collect(None, "tiny", settings)
    assert [entry.split("/")[0] for entry in result.imported] == ["alice"], result.describe()
    for student in ("Mallory", "mallory"):
        assert any(f"id {student} is the same id as" in p for p in result.problems), (
            result.describe()
        )
