"""Fixtures shared by the nngrade tests."""

from __future__ import annotations

import nbformat
import pytest
from nngrade_support import tiny_master


@pytest.fixture()
def master_path(tmp_path):
    """The tiny assignment's master copy, written to tmp_path/master/tiny.ipynb."""
    path = tmp_path / "master" / "tiny.ipynb"
    path.parent.mkdir()
    nbformat.write(tiny_master(), str(path))
    return path
