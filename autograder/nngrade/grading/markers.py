"""Solution and hidden-test markers of a master notebook, parsed as nbgrader parses them.

Everything in the kit that needs to know which lines of a master are solutions or hidden tests
asks this module: the grader (`prepare`, both executors, redaction), the feedback and report
leak checks, the release leak check and the test harness. The rules are nbgrader's own
(`ClearSolutions._replace_solution_region`, `ClearHiddenTests._remove_hidden_test_region` in
nbgrader 0.9): a line *containing* the begin delimiter opens a region, wherever it sits and
whatever comment mark precedes it (`### BEGIN HIDDEN TESTS` and `## BEGIN HIDDEN TESTS` alike);
a line containing the end delimiter closes it; both marker lines belong to the region. A nested
begin or a missing end is an error, as in nbgrader. The delimiters are read from the course's
nbgrader configuration (`ClearSolutions.begin_solution_delimeter`, ...; nbgrader's spelling).

A *secret line* of some kinds of region (one definition for every check) is a line inside such a
region that carries enough text to identify it (`MIN_SECRET_CHARS` characters once whitespace
is removed) and that appears nowhere outside those regions in the same notebooks: a function
signature or an import shared with visible code is not a secret. The release check asks for the
secret lines of solutions and hidden tests; feedback and reports for those of hidden tests only
(a student may well write a line of the reference solution).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SOLUTION = "solution"
HIDDEN = "hidden tests"
MARK_SCHEME = "mark scheme"
MIN_SECRET_CHARS = 10  # whitespace-free; shorter lines (`else:`, `return y`) are too generic
HIDDEN_PLACEHOLDER = "# (hidden tests were run here; only their messages are shown)"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")  # nbgrader's python code_stub
TEXT_STUB = ("YOUR ANSWER HERE",)  # nbgrader's text_stub (markdown answers)


class MarkerError(ValueError):
    """A master's markers are malformed (nested begin, or a begin without an end)."""


@dataclass(frozen=True)
class Markers:
    """The begin/end delimiters of each kind of region (nbgrader's defaults unless configured)."""

    begin_solution: str = "BEGIN SOLUTION"
    end_solution: str = "END SOLUTION"
    begin_hidden: str = "BEGIN HIDDEN TESTS"
    end_hidden: str = "END HIDDEN TESTS"
    begin_mark_scheme: str = "BEGIN MARK SCHEME"
    end_mark_scheme: str = "END MARK SCHEME"

    @classmethod
    def from_config(cls, config) -> Markers:
        """Delimiters from a traitlets Config (a course's nbgrader_config.py)."""
        defaults = cls()

        def get(section: str, key: str, default: str) -> str:
            if config is None or section not in config:
                return default
            return str(config[section].get(key, default))

        return cls(
            begin_solution=get(
                "ClearSolutions", "begin_solution_delimeter", defaults.begin_solution
            ),
            end_solution=get("ClearSolutions", "end_solution_delimeter", defaults.end_solution),
            begin_hidden=get("ClearHiddenTests", "begin_test_delimeter", defaults.begin_hidden),
            end_hidden=get("ClearHiddenTests", "end_test_delimeter", defaults.end_hidden),
            begin_mark_scheme=get(
                "ClearMarkingScheme", "begin_mark_scheme_delimeter", defaults.begin_mark_scheme
            ),
            end_mark_scheme=get(
                "ClearMarkingScheme", "end_mark_scheme_delimeter", defaults.end_mark_scheme
            ),
        )

    def pair(self, kind: str) -> tuple[str, str]:
        """(begin, end) delimiters of a kind of region."""
        return {
            SOLUTION: (self.begin_solution, self.end_solution),
            HIDDEN: (self.begin_hidden, self.end_hidden),
            MARK_SCHEME: (self.begin_mark_scheme, self.end_mark_scheme),
        }[kind]

    def all(self) -> tuple[str, ...]:
        """Every delimiter (a release notebook must contain none of them)."""
        return tuple(d for kind in (SOLUTION, HIDDEN, MARK_SCHEME) for d in self.pair(kind))


DEFAULT = Markers()


def regions(
    source: str, kind: str, markers: Markers = DEFAULT, *, stray_ends: bool = False
) -> list[tuple[int, int]]:
    """(first, last) 0-based line numbers of each region of `kind`, marker lines included.

    nbgrader also drops an end-marker line that closes nothing; `stray_ends=True` lists such a
    line as a one-line region (what the release removes), otherwise it is left out.
    """
    begin, end = markers.pair(kind)
    found: list[tuple[int, int]] = []
    start: int | None = None
    for number, line in enumerate(source.split("\n")):
        if begin in line:  # nbgrader checks the begin delimiter first
            if start is not None:
                raise MarkerError(f"nested '{begin}' at line {number + 1} (opened at {start + 1})")
            start = number
        elif end in line:
            if start is not None:
                found.append((start, number))
            elif stray_ends:
                found.append((number, number))
            start = None
    if start is not None:
        raise MarkerError(f"'{begin}' at line {start + 1} has no '{end}'")
    return found


def _inside(source: str, kind: str, markers: Markers) -> list[bool]:
    """Per line: does nbgrader's release remove it as part of a region of `kind`?"""
    flags = [False] * len(source.split("\n"))
    for first, last in regions(source, kind, markers, stray_ends=True):
        flags[first : last + 1] = [True] * (last - first + 1)
    return flags


def has_hidden(source: str, markers: Markers = DEFAULT) -> bool:
    """Does the cell hold a hidden-tests region?"""
    return bool(regions(source, HIDDEN, markers))


def hidden_line_numbers(source: str, markers: Markers = DEFAULT) -> set[int]:
    """1-based numbers of the lines of hidden-tests regions (marker lines included)."""
    return {n + 1 for n, inside in enumerate(_inside(source, HIDDEN, markers)) if inside}


def strip_hidden(source: str, markers: Markers = DEFAULT) -> str:
    """The cell without its hidden-tests regions: what nbgrader's release leaves."""
    lines = source.split("\n")
    flags = _inside(source, HIDDEN, markers)
    return "\n".join(line for line, inside in zip(lines, flags, strict=True) if not inside)


def visible_source(source: str, markers: Markers = DEFAULT) -> str:
    """The cell with each hidden-tests region replaced by one placeholder comment."""
    lines = source.split("\n")
    found = regions(source, HIDDEN, markers)
    kept: list[str] = []
    position = 0
    for first, last in found:
        kept += lines[position:first]
        indent = re.match(r"[ \t]*", lines[first]).group(0)
        kept.append(indent + HIDDEN_PLACEHOLDER)
        position = last + 1
    kept += lines[position:]
    return "\n".join(kept).rstrip() + "\n"


def clear_solution(
    source: str, markers: Markers = DEFAULT, *, solution_cell: bool = False, markdown: bool = False
) -> str:
    """The cell as nbgrader releases it: each solution region replaced by the stub (indented
    like its begin marker); a solution cell without regions becomes the stub as a whole."""
    stub = TEXT_STUB if markdown else CODE_STUB
    if solution_cell and not regions(source, SOLUTION, markers):
        return "\n".join(stub)
    lines = source.split("\n")
    kept: list[str] = []
    position = 0
    for first, last in regions(source, SOLUTION, markers, stray_ends=True):
        kept += lines[position:first]
        if first != last:  # a one-line region is a stray end marker: dropped, no stub
            indent = re.match(r"[ \t]*", lines[first]).group(0)
            kept += [indent + line for line in stub]
        position = last + 1
    kept += lines[position:]
    return "\n".join(kept)


def region_lines(source: str, kind: str, markers: Markers = DEFAULT) -> list[str]:
    """Stripped, non-empty lines inside the regions of `kind` (marker lines left out)."""
    lines = source.split("\n")
    return [
        lines[n].strip()
        for first, last in regions(source, kind, markers)
        for n in range(first + 1, last)
        if lines[n].strip()
    ]


def flat(line: str) -> str:
    """A line without any whitespace: how secret lines are compared."""
    return re.sub(r"\s+", "", line)


def secret_lines(
    sources: Iterable[str], kinds: Iterable[str] = (HIDDEN,), markers: Markers = DEFAULT
) -> dict[str, str]:
    """The secret lines of the regions of `kinds` in `sources` (cells of one or more notebooks).

    Returns {whitespace-free text: the stripped line}; see the module docstring for the rule.
    """
    kinds = tuple(kinds)
    secret: dict[str, str] = {}
    public: set[str] = set()
    for source in sources:
        lines = source.split("\n")
        inside = [False] * len(lines)
        for kind in kinds:
            flags = _inside(source, kind, markers)
            inside = [a or b for a, b in zip(inside, flags, strict=True)]
            for line in region_lines(source, kind, markers):
                if len(flat(line)) >= MIN_SECRET_CHARS:
                    secret.setdefault(flat(line), line)
        public |= {flat(line) for line, hid in zip(lines, inside, strict=True) if not hid}
    return {key: line for key, line in secret.items() if key not in public}


def quoted_secrets(text: str, secrets: dict[str, str]) -> list[str]:
    """The secret lines that a line of `text` quotes (whitespace ignored), in order found."""
    found: list[str] = []
    for line in text.splitlines():
        text_flat = flat(line)
        found += [secrets[k] for k in secrets if k in text_flat and secrets[k] not in found]
    return found


TRACEBACK_PREFIX = re.compile(r"^(?:-*>|\s)*\s*\d+\s")  # "----> 3 " / "      3 " of a traceback


def whole_line_key(line: str) -> str:
    """How the feedback and report guard compares a line with the secret lines: whitespace
    removed, and the line-number prefix of a traceback line too."""
    return flat(TRACEBACK_PREFIX.sub("", line, count=1))


def whole_line_secrets(text: str, secrets: dict[str, str]) -> list[str]:
    """The secret lines that some line of `text` reproduces as a whole line (precise: a
    secret quoted inside honest prose or a longer code line is not a leak of that line)."""
    found: list[str] = []
    for line in text.splitlines():
        hit = secrets.get(whole_line_key(line)) or secrets.get(flat(line))
        if hit and hit not in found:
            found.append(hit)
    return found


def redact_lines(
    text: str, secrets: dict[str, str], note: str = "[hidden test line removed]"
) -> str:
    """`text` with every line that reproduces a secret line (as a whole) replaced by `note`."""
    if not secrets or not isinstance(text, str):
        return text
    lines = text.split("\n")
    changed = False
    for n, line in enumerate(lines):
        if line.strip() and (whole_line_key(line) in secrets or flat(line) in secrets):
            indent = re.match(r"[ \t]*", line).group(0)
            lines[n] = indent + note
            changed = True
    return "\n".join(lines) if changed else text


def notebook_sources(paths: Iterable[Path]) -> list[str]:
    """The cell sources of notebooks on disk (for `secret_lines`)."""
    import nbformat

    return [cell.source for path in paths for cell in nbformat.read(str(path), as_version=4).cells]


def carried_secrets(text: str, secrets: dict[str, str], markers: Markers = DEFAULT) -> list[str]:
    """What in `text` (any file, e.g. a jupytext pair beside a master) gives away solutions or
    hidden tests: the delimiters it contains, then the secret lines it reproduces."""
    found = [f"marker '{marker}'" for marker in markers.all() if marker in text]
    found += [f"line '{line}'" for line in whole_line_secrets(text, secrets)]
    return found
