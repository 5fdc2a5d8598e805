"""The demo class: generated from the current HW 4 master; broken ones refused, others repaired."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from nngrade.grading.prepare import SubmissionError, prepare

ROOT = Path(__file__).resolve().parents[2]
MASTER = ROOT / "source" / "hw4_mlp" / "hw4_mlp.ipynb"

pytestmark = pytest.mark.skipif(not MASTER.is_file(), reason="HW 4 master not present")

REFUSED = {"s13_broken_json", "s14_wrong_assignment", "s15_empty_file"}


def test_demo_class_builds_from_master_and_matches_the_fixture(tmp_path):
    from make_class import CLASS_ZIP, STUDENTS, write_class

    paths = write_class(tmp_path)
    assert len(paths) >= 12 and {p.parent.name for p in paths} == set(STUDENTS)
    with zipfile.ZipFile(CLASS_ZIP) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s}/hw4_mlp.ipynb" for s in STUDENTS)
    for path in paths:
        student = path.parent.name
        if student in REFUSED:
            with pytest.raises(SubmissionError):
                prepare(path, MASTER, assignment="hw4_mlp")
        else:
            prepared = prepare(path, MASTER, assignment="hw4_mlp")
            sources = "\n".join(c.source for c in prepared.notebook.cells)
            assert "BEGIN HIDDEN TESTS" in sources, student  # master tests restored
