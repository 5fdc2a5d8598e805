"""helpers/ must never contain the solution of anything a student is graded on.

Every substantial line between `### BEGIN SOLUTION` and `### END SOLUTION` in the master
notebooks is looked for in the helpers package, and no graded function name may be defined there.
"""

import ast
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
HELPERS = ROOT / "helpers"
TRIVIAL = re.compile(r"^(return\b.{0,12}|pass|else:|try:|except.*:|#.*|[\w, ]+ = [\w.]+\(\)?)$")


def _normalise(line: str) -> str:
    return re.sub(r"\s+", "", line.split("#")[0])


def _solution_cells() -> list[tuple[Path, str]]:
    cells = []
    for path in sorted((ROOT / "source").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                cells.append((path, cell.source))
    return cells


def _solution_lines() -> dict[str, tuple[Path, str]]:
    lines = {}
    for path, source in _solution_cells():
        inside = False
        for raw in source.splitlines():
            if "BEGIN SOLUTION" in raw:
                inside = True
            elif "END SOLUTION" in raw:
                inside = False
            elif inside:
                stripped = raw.strip()
                key = _normalise(stripped)
                if len(key) >= 20 and not TRIVIAL.match(stripped):
                    lines[key] = (path, stripped)
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
            key = _normalise(raw)
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
