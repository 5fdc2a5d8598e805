"""Honest students are never told they tampered: every release notebook, untouched and
completed with the master's answers, gets zero notes; a test new in the master is new."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import simulate as sim
from make_tiny import graded_cell, tiny_master
from nngrade.grading.prepare import prepare

ROOT = Path(__file__).resolve().parents[2]
PAIRS = sorted(
    (release, ROOT / "source" / release.parent.name / release.name)
    for release in (ROOT / "release").glob("*/*.ipynb")
    if (ROOT / "source" / release.parent.name / release.name).is_file()
)


def test_there_are_release_notebooks_to_check():
    assert len(PAIRS) >= 3, PAIRS  # lab 1, lab 2, HW 4 at least


@pytest.mark.parametrize("release, master", PAIRS, ids=[p[0].parent.name for p in PAIRS])
def test_untouched_release_notebook_gets_no_notes(release, master):
    prepared = prepare(release, master, assignment=release.parent.name)
    assert prepared.notes == []


@pytest.mark.parametrize("release, master", PAIRS, ids=[p[0].parent.name for p in PAIRS])
def test_reference_completed_release_gets_no_notes(tmp_path, release, master):
    """The release notebook (nbgrader's metadata: checksums, cell types) with the master's
    answers typed into its answer cells, as the best student would hand it in."""
    answers = sim.reference(nbformat.read(str(master), as_version=4))
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in answers.cells}
    nb = nbformat.read(str(release), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = by_id[meta["grade_id"]]
    path = sim.write(nb, tmp_path / release.name)
    prepared = prepare(path, master, assignment=release.parent.name)
    assert prepared.notes == []


def test_edited_points_in_a_release_notebook_are_still_noted(tmp_path):
    release, master = PAIRS[0]
    nb = nbformat.read(str(release), as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.metadata["nbgrader"]["points"] = 99
    answer.metadata["nbgrader"]["grade"] = True
    path = sim.write(nb, tmp_path / release.name)
    notes = prepare(path, master, assignment=release.parent.name).notes
    assert any("metadata of cell" in n for n in notes), notes


def test_a_test_new_in_the_master_is_new_not_deleted(tmp_path):
    master = tiny_master()
    student = sim.build(master, [])  # made before the master gained test_extra
    master.cells.append(graded_cell("assert square(-1) == 1", "test_extra"))
    master_path = sim.write(master, tmp_path / "master.ipynb")
    path = sim.write(student, tmp_path / "tiny.ipynb")
    notes = prepare(path, master_path, assignment="tiny", new_in_master={"test_extra"}).notes
    assert notes == [
        "test test_extra is new in the master (added after your copy was released); graded"
    ]
    deleted = prepare(path, master_path, assignment="tiny").notes  # not known to be new
    assert any("test_extra was deleted" in n for n in deleted)
