"""helpers/ must never contain the solution of anything a student is graded on.

Every secret line of a solution region (`### BEGIN SOLUTION` ... `### END SOLUTION`) in the
master notebooks is looked for in the helpers package (comments aside), and no graded function
name may be defined there.
"""

import ast
from pathlib import Path

import nbformat
from nngrade.grading.markers import MIN_SECRET_CHARS, SOLUTION, flat, secret_lines

ROOT = Path(__file__).resolve().parents[2]
HELPERS = ROOT / "helpers"


def _code(line: str) -> str:
    """A line without its comment and whitespace."""
    return flat(line.split("#")[0])


def _solution_cells() -> list[tuple[Path, str]]:
    cells = []
    for path in sorted((ROOT / "source").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                cells.append((path, cell.source))
    return cells


def _solution_lines() -> dict[str, tuple[Path, str]]:
    """The secret lines of the masters' solutions (the one definition, nngrade's markers.py)."""
    lines = {}
    for path in sorted((ROOT / "source").rglob("*.ipynb")):
        sources = [c.source for c in nbformat.read(path, as_version=4).cells]
        for line in secret_lines(sources, (SOLUTION,)).values():
            code = _code(line)
            if len(code) >= MIN_SECRET_CHARS:
                lines[code] = (path, line)
    return lines


def _graded_function_names() -> set[str]:
    names = set()
    for _, source in _solution_cells():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return names


def _helper_sources() -> dict[Path, str]:
    return {p: p.read_text() for p in HELPERS.rglob("*.py")}


def test_no_solution_line_appears_in_helpers():
    solutions = _solution_lines()
    assert solutions, "no solution lines found in source/: the check would be empty"
    found = []
    for path, text in _helper_sources().items():
        for raw in text.splitlines():
            key = _code(raw)
            if key in solutions:
                nb, line = solutions[key]
                found.append(f"{path.relative_to(ROOT)}: '{line}' (solution in {nb.name})")
    assert not found, "helpers/ contains solution code:\n" + "\n".join(found)


def test_no_graded_function_is_defined_in_helpers():
    graded = _graded_function_names()
    assert graded, "no graded functions found in source/: the check would be empty"
    clashes = []
    for path, text in _helper_sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.name in graded:
                clashes.append(f"{path.relative_to(ROOT)} defines {node.name}()")
    assert not clashes, "helpers/ defines graded functions:\n" + "\n".join(clashes)
