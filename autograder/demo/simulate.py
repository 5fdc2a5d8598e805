"""Make simulated student submissions from a master copy (demo class, tests, benchmark).

A submission starts as the student version with the master's solutions filled in (the reference
answer); mutations then plant typical bugs or typical ways of breaking a notebook.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import nbformat
from nngrade.grading.markers import strip_hidden
from nngrade.grading.prepare import is_test_cell, nbgrader_meta

Mutation = Callable[[nbformat.NotebookNode], nbformat.NotebookNode]


def reference(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The master's answers without hidden tests or outputs: what a perfect student submits."""
    nb = copy.deepcopy(master)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if is_test_cell(cell):
            cell.source = strip_hidden(cell.source)
        cell.source = "\n".join(
            line
            for line in cell.source.splitlines()
            if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
        )
    return nb


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def replace_in(grade_id: str, old: str, new: str) -> Mutation:
    """Replace text in one answer cell (a planted bug); fails loudly if `old` is absent."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cell = _cell(nb, grade_id)
        if old not in cell.source:
            raise ValueError(f"{old!r} not found in cell {grade_id}")
        cell.source = cell.source.replace(old, new, 1)
        return nb

    return mutate


def set_source(grade_id: str, source: str) -> Mutation:
    """Replace the whole source of one cell."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        _cell(nb, grade_id).source = source
        return nb

    return mutate


def delete_cell(grade_id: str) -> Mutation:
    """Delete a cell (a student dodging a test, or deleting an answer)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") != grade_id]
        return nb

    return mutate


def duplicate_cell(grade_id: str) -> Mutation:
    """Duplicate a cell in place (Jupyter's copy/paste keeps the metadata)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cell = _cell(nb, grade_id)
        nb.cells.insert(nb.cells.index(cell), copy.deepcopy(cell))
        return nb

    return mutate


def change_type(grade_id: str, cell_type: str = "markdown") -> Mutation:
    """Change a cell's type (e.g. an answer cell turned into markdown by a stray keystroke)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cell = _cell(nb, grade_id)
        fresh = (
            nbformat.v4.new_markdown_cell if cell_type == "markdown" else nbformat.v4.new_code_cell
        )(cell.source)
        fresh.metadata = cell.metadata
        nb.cells[nb.cells.index(cell)] = fresh
        return nb

    return mutate


def edit_points(grade_id: str, points: float) -> Mutation:
    """Edit the points of a cell in its metadata (must be ignored)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        _cell(nb, grade_id).metadata["nbgrader"]["points"] = points
        return nb

    return mutate


def weaken_tests() -> Mutation:
    """Replace every test cell by `pass` (must be restored from the master)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        for cell in nb.cells:
            if is_test_cell(cell):
                cell.source = "pass"
        return nb

    return mutate


def append_code(source: str, after: str | None = None) -> Mutation:
    """Add a student cell (after the cell `after`, or at the end)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cell = nbformat.v4.new_code_cell(source)
        index = nb.cells.index(_cell(nb, after)) + 1 if after else len(nb.cells)
        nb.cells.insert(index, cell)
        return nb

    return mutate


def huge_output(megabytes: float = 6) -> Mutation:
    """Attach a huge stored output to the first code cell (printed giant arrays)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cell = next(c for c in nb.cells if c.cell_type == "code")
        text = ("0.123456789 " * 100 + "\n") * int(megabytes * 1e6 / 1200)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        return nb

    return mutate


def rename_ids(prefix: str = "other_") -> Mutation:
    """Rename every grade id (a notebook of another assignment)."""

    def mutate(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade_id"):
                meta["grade_id"] = prefix + meta["grade_id"]
        return nb

    return mutate


def build(master: nbformat.NotebookNode, mutations: list[Mutation]) -> nbformat.NotebookNode:
    """Reference answer with mutations applied in order."""
    nb = reference(master)
    for mutate in mutations:
        nb = mutate(nb)
    for index, cell in enumerate(nb.cells):  # deterministic ids: reproducible fixtures
        if "id" in cell:
            cell["id"] = f"cell-{index}"
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> Path:
    """Write a notebook (valid JSON, UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_raw(data: bytes, path: Path) -> Path:
    """Write raw bytes (broken submissions: truncated JSON, empty, other encodings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def truncated(nb: nbformat.NotebookNode, fraction: float = 0.6) -> bytes:
    """The notebook's JSON cut short (an interrupted upload)."""
    text = json.dumps(nb, indent=1).encode()
    return text[: int(len(text) * fraction)]


def cp1252(nb: nbformat.NotebookNode, note: str = "# Résumé: café, naïve, 5 €\n") -> bytes:
    """The notebook saved as Windows-1252 with accented text in a comment."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(0, nbformat.v4.new_code_cell(note, id="cell-cp1252"))
    return json.dumps(nb, indent=1, ensure_ascii=False).encode("cp1252")
