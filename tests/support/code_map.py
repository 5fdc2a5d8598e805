"""The code map of docs/development.md against the code: which modules it lists, how many lines.

docs/development.md has, under "The code, module by module", one heading per package
("### `autograder/nngrade/`: 33 modules, 7,069 lines") and a table of its modules, one row each
(`| `grading/records.py` | its job |`). `python tests/support/code_map.py` prints every package's
modules and lines as they are now, and what the map gets wrong; tests/test_code_map.py fails
when a module is missing from the map, listed but gone, or a heading's figures are off.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "development.md"
SECTION = "## The code, module by module"
HEADING = re.compile(
    r"^### `(?P<package>[\w/.-]+)/`: (?P<modules>[\d,]+) modules, (?P<lines>[\d,]+) lines"
)
ROW = re.compile(r"^\| `(?P<module>[\w/.-]+\.py)` \| (?P<job>.+?) \|$")
LINES_TOLERANCE = 0.2  # a heading's line count may drift this much before it must be updated


@dataclass
class Package:
    """One package as the map documents it."""

    path: str
    modules: int
    lines: int
    rows: dict[str, str] = field(default_factory=dict)  # module -> its job


def documented(text: str) -> list[Package]:
    """The packages and module rows of the map section of `text` (the developers' guide)."""
    if SECTION not in text:
        return []
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    packages: list[Package] = []
    for line in body.splitlines():
        if heading := HEADING.match(line):
            numbers = (int(heading[name].replace(",", "")) for name in ("modules", "lines"))
            packages.append(Package(heading["package"], *numbers))
        elif (row := ROW.match(line)) and packages:
            packages[-1].rows[row["module"]] = row["job"]
    return packages


def modules(package: Path) -> dict[str, int]:
    """Every Python module of a package folder (relative path -> line count)."""
    return {
        path.relative_to(package).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(package.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def problems(root: Path = ROOT, guide: Path = GUIDE) -> list[str]:
    """Everything the map gets wrong, one sentence each ([] when it is true to the code)."""
    packages = documented(guide.read_text(encoding="utf-8"))
    if not packages:
        return [f"{guide.name} has no section {SECTION!r} with package headings"]
    found = []
    for package in packages:
        actual = modules(root / package.path)
        if not actual:
            found.append(f"{package.path}/ has no Python modules (listed in {guide.name})")
            continue
        found += [
            f"{package.path}/{name} is not in the map: add a row `| `{name}` | its job |`"
            for name in sorted(set(actual) - set(package.rows))
        ]
        found += [
            f"{package.path}/{name} is in the map but not in the code"
            for name in sorted(set(package.rows) - set(actual))
        ]
        if package.modules != len(actual):
            found.append(
                f"{package.path}/: the heading says {package.modules} modules, there are "
                f"{len(actual)}"
            )
        lines = sum(actual.values())
        if abs(package.lines - lines) > LINES_TOLERANCE * lines:
            found.append(
                f"{package.path}/: the heading says {package.lines:,} lines, there are {lines:,}"
            )
    return found


def main() -> int:
    """Print each documented package's modules and lines now, then what the map gets wrong."""
    for package in documented(GUIDE.read_text(encoding="utf-8")):
        actual = modules(ROOT / package.path)
        print(f"### `{package.path}/`: {len(actual)} modules, {sum(actual.values()):,} lines")
        for name, lines in actual.items():
            print(f"  {lines:6,}  {name}")
    wrong = problems()
    for problem in wrong:
        print(f"map: {problem}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
