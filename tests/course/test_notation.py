"""Every notebook opens with the course's notation box, word for word the one on the card.

The card is docs/notation.md; its box sits between the markers below. Each notebook's second cell
(right after the title), in the lectures (notebooks/), the assignment masters (source/) and the
student versions (release/), must be a Markdown cell whose source is exactly that box, so
a student sees the same symbols everywhere and an edit to the card cannot silently drift away
from the notebooks (or the other way round).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "docs" / "notation.md"
START, END = "<!-- notation-box:start -->", "<!-- notation-box:end -->"
LECTURES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = {
    folder: sorted(
        p for p in (ROOT / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    for folder in ("source", "release")
}
NOTEBOOKS = LECTURES + ASSIGNMENTS["source"] + ASSIGNMENTS["release"]


def card_box(text: str) -> str:
    """The box text between the markers of the card (without the surrounding newlines)."""
    if text.count(START) != 1 or text.count(END) != 1:
        raise ValueError(
            f"{CARD.relative_to(ROOT)} must hold exactly one {START} and one {END} line "
            f"(found {text.count(START)} and {text.count(END)})"
        )
    box = text.split(START, 1)[1].split(END, 1)[0].strip("\n")
    if not box.strip():
        raise ValueError(f"{CARD.relative_to(ROOT)}: the notation box between the markers is empty")
    return box


def notation_cell_problem(nb: nbformat.NotebookNode, box: str) -> str | None:
    """Why the notebook's second cell is not the box, or None when it is."""
    if len(nb.cells) < 2:
        return f"has {len(nb.cells)} cell(s); the notation box must be the second cell"
    title, cell = nb.cells[0], nb.cells[1]
    if title.cell_type != "markdown" or not title.source.lstrip().startswith("# "):
        return "cell 0 should be the Markdown title cell ('# ...'), followed by the notation box"
    if cell.cell_type != "markdown":
        return f"cell 1 is a {cell.cell_type} cell; it should be the Markdown notation box"
    if cell.source != box:
        diff = difflib.unified_diff(
            box.splitlines(), cell.source.splitlines(), "card", "cell 1", lineterm="", n=0
        )
        return "cell 1 differs from the card's notation box:\n" + "\n".join(list(diff)[:12])
    return None


def test_the_card_has_one_box():
    box = card_box(CARD.read_text(encoding="utf-8"))
    assert "pre-activation" in box and "(out, in)" in box, box


def test_a_changed_box_is_caught():
    """The check itself can fail: a notebook whose box lost one character is reported."""
    box = card_box(CARD.read_text(encoding="utf-8"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), nbformat.v4.new_markdown_cell(box[:-1])]
    assert "differs from the card" in notation_cell_problem(nb, box)
    nb.cells[1] = nbformat.v4.new_markdown_cell(box)
    assert notation_cell_problem(nb, box) is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_opens_with_the_cards_notation_box(path: Path):
    box = card_box(CARD.read_text(encoding="utf-8"))
    nb = nbformat.read(path, as_version=4)
    problem = notation_cell_problem(nb, box)
    assert problem is None, f"{path.relative_to(ROOT)}: {problem}"


def test_every_notebook_is_checked():
    assert len(LECTURES) >= 7, f"expected the lecture notebooks in notebooks/, found {LECTURES}"
    for folder, paths in ASSIGNMENTS.items():
        names = {p.parent.name for p in paths}
        expected = {"lab1_perceptron_gd", "lab2_softmax_backprop", "hw4_mlp"}
        assert expected <= names, (
            f"{folder}/: expected notebooks of {sorted(expected)}, found {names}"
        )
