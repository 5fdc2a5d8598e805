"""release/ is what nbgrader generates from source/, and leaks no solution or hidden test."""

from pathlib import Path

import nbformat
import pytest
from nngrade.commands.release import (
    available_assignments,
    find_leaks,
    generate_release,
    notebook_fingerprint,
)

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = available_assignments(ROOT)


def _notebooks(folder: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(folder)): p
        for p in sorted(folder.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    }


def test_every_assignment_is_released():
    assert "hw4_mlp" in ASSIGNMENTS
    missing = [a for a in ASSIGNMENTS if not _notebooks(ROOT / "release" / a)]
    assert not missing, f"no release notebooks for {missing}: run `make release`, commit release/"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_leaks_nothing(assignment):
    release = _notebooks(ROOT / "release" / assignment)
    leaks = [
        leak
        for name, path in release.items()
        for leak in find_leaks(ROOT / "source" / assignment / name, path)
    ]
    assert not leaks, "release/ leaks:\n" + "\n".join(leaks)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_leak_check_catches_a_master_copy(assignment):
    """The leak check can fail: the master itself, posing as a release, is full of leaks."""
    for path in _notebooks(ROOT / "source" / assignment).values():
        leaks = find_leaks(path, path)
        assert any("marker" in leak for leak in leaks)
        assert any("solution line" in leak for leak in leaks)
        hidden = any("BEGIN HIDDEN TESTS" in c.source for c in nbformat.read(path, 4).cells)
        assert not hidden or any("hidden test line" in leak for leak in leaks)


@pytest.mark.slow
def test_release_is_in_sync_with_source(tmp_path):
    generate_release(ASSIGNMENTS, tmp_path)  # raises if the fresh release leaks
    fresh, committed = _notebooks(tmp_path), _notebooks(ROOT / "release")
    assert sorted(fresh) == sorted(committed), (
        f"release/ holds {sorted(committed)}, source/ generates {sorted(fresh)}: "
        "run `make release` and commit release/"
    )
    stale = [
        name
        for name in fresh
        if notebook_fingerprint(fresh[name]) != notebook_fingerprint(committed[name])
    ]
    assert not stale, f"release/ is out of date for {stale}: run `make release` and commit release/"


def test_fingerprint_ignores_ids_but_sees_edits(tmp_path):
    path = ROOT / "release" / "hw4_mlp" / "hw4_mlp.ipynb"
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"renumbered-{index}"
    nbformat.write(nb, tmp_path / "ids.ipynb")
    assert notebook_fingerprint(tmp_path / "ids.ipynb") == notebook_fingerprint(path)
    nb.cells[0].source += "\nedited by hand"
    nbformat.write(nb, tmp_path / "edited.ipynb")
    assert notebook_fingerprint(tmp_path / "edited.ipynb") != notebook_fingerprint(path)
