"""Load, validate and repair a submission against the master copy before it is graded.

The graded notebook keeps the student's own cells in the student's order, but every test and
locked cell is the master's (hidden tests included), so deleting or editing a test never dodges
it. Each repair is recorded as a note; input that cannot be repaired raises `SubmissionError`
whose message names the problem, where, and a likely cause.
"""

from __future__ import annotations

import codecs
import copy
import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nngrade.grading import markers as mk
from nngrade.grading.markers import DEFAULT, Markers
from nngrade.grading.results import Limits


class SubmissionError(Exception):
    """The submission cannot be graded; the message says why, for the instructor and student."""


@dataclass
class TestCell:
    """What the grader needs to know about one autograded test cell of the master."""

    __test__ = False  # not a pytest test class

    grade_id: str
    points: float
    hidden: bool
    visible_source: str  # the cell as students see it (hidden block replaced by a comment)
    hidden_lines: list[str]  # the secret lines of its hidden block(s) (see markers.py)
    # the whole master's text: what a hidden test's message may quote (grading/declassify.py)
    master_text: str = field(default="", repr=False, compare=False)


@dataclass
class Prepared:
    """A repaired notebook ready to execute, plus what was repaired."""

    notebook: nbformat.NotebookNode
    tests: list[TestCell]
    notes: list[str] = field(default_factory=list)


def nbgrader_meta(cell: dict) -> dict:
    """The cell's nbgrader metadata ({} when none)."""
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def is_test_cell(cell: dict) -> bool:
    """An autograded test cell: graded code cell that is not a solution."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_locked(cell: dict) -> bool:
    """A cell students must not change (tests, locked instructions, locked set-up code)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked")) or is_test_cell(cell)


def unanswered(cell: dict, markers: Markers = DEFAULT) -> str:
    """An answer cell as released (nbgrader's ClearSolutions): never the master's answer.

    Code keeps what surrounds the solution markers; a cell without markers is replaced whole,
    and so is every markdown answer without markers (a written answer graded by hand).
    """
    return mk.clear_solution(
        cell.get("source", ""),
        markers,
        solution_cell=True,
        markdown=cell.get("cell_type") != "code",
    )


def test_cells(master: nbformat.NotebookNode, markers: Markers = DEFAULT) -> list[TestCell]:
    """The autograded test cells of a master notebook, in order (the one list of them)."""
    secrets = mk.secret_lines((cell.source for cell in master.cells), (mk.HIDDEN,), markers)
    master_text = "\n".join(str(cell.source) for cell in master.cells)
    tests = []
    for cell in master.cells:
        if is_test_cell(cell):
            meta = nbgrader_meta(cell)
            tests.append(
                TestCell(
                    grade_id=meta["grade_id"],
                    points=float(meta.get("points") or 0),
                    hidden=mk.has_hidden(cell.source, markers),
                    visible_source=mk.visible_source(cell.source, markers),
                    hidden_lines=[
                        line
                        for line in mk.region_lines(cell.source, mk.HIDDEN, markers)
                        if mk.flat(line) in secrets
                    ],
                    master_text=master_text,
                )
            )
    return tests


def master_tests(paths: list[Path], markers: Markers = DEFAULT) -> list[TestCell]:
    """The test cells of an assignment's master notebooks, notebook by notebook."""
    return [test for path in paths for test in test_cells(read_master(path), markers)]


def read_master(path: Path) -> nbformat.NotebookNode:
    """Read a master notebook (must be valid)."""
    return nbformat.read(str(path), as_version=4)


def decode(raw: bytes, name: str, notes: list[str]) -> str:
    """Bytes to text: UTF-8 (with or without BOM); other encodings are read and noted."""
    if not raw.strip():
        raise SubmissionError(
            f"{name} is empty (0 bytes of content): the upload probably failed or the notebook "
            "was saved while the disk was full; please submit again"
        )
    for bom, encoding in UNICODE_BOMS:  # UTF-32 first: its LE mark starts like UTF-16's
        if raw.startswith(bom):
            try:
                text = raw[len(bom) :].decode(encoding)
            except UnicodeDecodeError as err:
                raise SubmissionError(
                    f"{name} starts as {encoding} text but is not (bad byte {err.start})"
                ) from None
            notes.append(f"{name} was saved as {encoding}, not UTF-8; read it as {encoding}")
            return text
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        where = f"byte {err.start}"
    for encoding in ("cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        notes.append(
            f"{name} is not UTF-8 text (first bad {where}); read it as {encoding}, so accented "
            "characters may look wrong. Likely cause: edited and saved outside Jupyter."
        )
        return text
    raise SubmissionError(f"{name} is not text (undecodable {where})")  # pragma: no cover


def _json_problem(msg: str) -> str:
    """json's message without its own trailing "at" ("Unterminated string starting at")."""
    return msg[: -len(" at")] if msg.endswith(" at") else msg


UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
MAX_CELLS = 10_000  # an honest notebook has hundreds; validating 10**6 takes minutes


def _no_constant(word: str) -> None:
    raise SubmissionError(f"holds {word}, which is not JSON (no notebook editor writes it)")


def _loads(text: str, name: str):
    """json.loads whose every failure is a SubmissionError naming it."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except SubmissionError as err:
        raise SubmissionError(f"{name} {err}") from None
    except RecursionError:
        raise SubmissionError(
            f"{name} is JSON nested deeper than any notebook (thousands of levels)"
        ) from None
    except json.JSONDecodeError:
        raise
    except ValueError as err:  # e.g. an integer of more than 4300 digits
        raise SubmissionError(f"{name} is not a readable notebook: {str(err)[:200]}") from None


def _check_cells(data: dict, name: str) -> None:
    """Shapes the grader relies on, checked before nbformat reads the notebook (its errors
    would otherwise surface as crashes of the grader). Outputs of code cells are dropped here:
    they are recomputed, and validating 100,000 of them took nbformat 28 s."""
    cells = data["cells"]
    if len(cells) > MAX_CELLS:
        raise SubmissionError(
            f"{name} has {len(cells):,} cells, over the {MAX_CELLS:,} any notebook of this "
            "course needs; delete the empty ones and submit again"
        )
    for number, cell in enumerate(cells, 1):
        where = f"{name}, cell {number}"
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise SubmissionError(f"{where} is not a code, Markdown or raw cell")
        source = cell.get("source", "")
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(line, str) for line in source)
        ):
            raise SubmissionError(f"{where}: its source is not text")
        cell.setdefault("source", "")  # keys an editor may leave out: not worth a refusal
        meta = cell.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise SubmissionError(f"{where}: its metadata is not a JSON object")
        _check_nbgrader(meta.get("nbgrader"), where)
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None


def _check_nbgrader(meta, where: str) -> None:
    if meta is None:
        return
    if not isinstance(meta, dict):
        raise SubmissionError(f"{where}: its nbgrader metadata is not a JSON object")
    grade_id = meta.get("grade_id")
    if grade_id is not None and not isinstance(grade_id, str):
        raise SubmissionError(f"{where}: its nbgrader grade_id is not text")
    points = meta.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, numbers.Real)):
        raise SubmissionError(f"{where}: its nbgrader points are not a number")


def parse(text: str, name: str) -> nbformat.NotebookNode:
    """Text to a version-4 notebook, with messages that say where the JSON is broken."""
    try:
        data = _loads(text, name)
    except json.JSONDecodeError as err:
        cause = (
            "the file ends early (truncated upload or save)"
            if err.pos >= len(text.rstrip()) - 1
            else "it was edited in a text editor"
        )
        raise SubmissionError(
            f"{name} is not valid notebook JSON: {_json_problem(err.msg)} at line {err.lineno}, "
            "column "
            f"{err.colno}. Likely cause: {cause}. Open it in Jupyter to check, or re-download "
            "and redo the changes"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SubmissionError(
            f"{name} is JSON but not a Jupyter notebook (no list of 'cells' at the top level)"
        )
    version = data.get("nbformat")
    if version != 4:
        raise SubmissionError(
            f"{name} is a version {str(version)[:20]} notebook; this course reads version 4 "
            "(Jupyter's since 2015): open and save it in a current Jupyter"
        )
    if not isinstance(data.get("metadata", {}), dict):
        raise SubmissionError(f"{name}: its notebook metadata is not a JSON object")
    _check_cells(data, name)
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb, relax_add_props=True)
    except Exception as err:  # nbformat raises several types for malformed notebooks
        raise SubmissionError(f"{name} is not a readable notebook: {str(err)[:300]}") from None
    return nb


def _clean_cell(cell: dict) -> nbformat.NotebookNode:
    """A fresh copy of a student cell without outputs (they are recomputed)."""
    cell = copy.deepcopy(cell)
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return nbformat.from_dict(cell)


def _from_master(cell: dict) -> nbformat.NotebookNode:
    fresh = copy.deepcopy(cell)
    if fresh.get("cell_type") == "code":
        fresh["outputs"] = []
        fresh["execution_count"] = None
    return nbformat.from_dict(fresh)


def repair(
    submission: nbformat.NotebookNode,
    master: nbformat.NotebookNode,
    *,
    assignment: str,
    name: str,
    new_in_master: frozenset[str] | set[str] = frozenset(),
    markers: Markers = DEFAULT,
) -> Prepared:
    """Merge a student notebook with its master: the student's answers, the master's tests.

    `new_in_master`: grade ids the master gained after the student's copy was released; their
    absence from the submission is no edit of the student's and is reported as such.
    """
    notes: list[str] = []
    master_cells = {nbgrader_meta(c).get("grade_id"): c for c in master.cells if nbgrader_meta(c)}
    master_cells.pop(None, None)
    master_order = [nbgrader_meta(c)["grade_id"] for c in master.cells if nbgrader_meta(c)]

    student_ids = [nbgrader_meta(c).get("grade_id") for c in submission.cells]
    known = [g for g in student_ids if g in master_cells]
    foreign = [g for g in student_ids if g and g not in master_cells]
    if not known:
        if foreign:
            raise SubmissionError(
                f"{name} does not belong to assignment {assignment!r}: none of its graded cells "
                f"({', '.join(sorted(set(foreign))[:5])}) are in the master copy, which expects "
                f"{', '.join(master_order[:5])}. Likely cause: the wrong notebook was submitted"
            )
        raise SubmissionError(
            f"{name} has none of the assignment's cells (no nbgrader metadata at all). Likely "
            "cause: the work was copied into a new notebook; submit the notebook that was "
            f"released for {assignment!r}, with your answers in its answer cells"
        )
    if foreign:
        notes.append(
            f"cells with unknown ids {', '.join(sorted(set(foreign)))} are treated as your "
            "own cells (they are not part of the assignment)"
        )

    # The last copy of a duplicated answer cell keeps the grade id (it runs last, so it wins,
    # as in the notebook); duplicated test or locked cells are dropped.
    last_index = {g: i for i, g in enumerate(student_ids) if g in master_cells}
    merged: list[nbformat.NotebookNode] = []
    placed: set[str] = set()
    duplicates: set[str] = set()
    for index, cell in enumerate(submission.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id not in master_cells:
            merged.append(_strip_nbgrader(_clean_cell(cell)))
            continue
        reference = master_cells[grade_id]
        if is_locked(reference):
            if grade_id in placed:
                duplicates.add(grade_id)
                continue
            if _edited(cell.get("source", ""), reference.source, markers):
                kind = "test" if is_test_cell(reference) else "locked"
                notes.append(f"{kind} cell {grade_id} was edited; restored the master's version")
            merged.append(_from_master(reference))
            placed.add(grade_id)
            continue
        if index != last_index[grade_id]:
            duplicates.add(grade_id)
            merged.append(_strip_nbgrader(_clean_cell(cell)))
            continue
        merged.append(_answer_cell(cell, reference, notes))
        placed.add(grade_id)
    for grade_id in sorted(duplicates):
        notes.append(
            f"cell {grade_id} appears more than once; graded the last copy of an answer, "
            "one copy of a test"
        )
    _insert_missing(merged, master, master_order, placed, notes, set(new_in_master), markers)
    nb = nbformat.v4.new_notebook(cells=merged, metadata=copy.deepcopy(master.metadata))
    return Prepared(notebook=nb, tests=test_cells(master, markers), notes=notes)


def _edited(source: str, master_source: str, markers: Markers) -> bool:
    """True when a student's copy differs from both the master and its release version."""
    ours = source.strip()
    return ours not in (master_source.strip(), mk.strip_hidden(master_source, markers).strip())


GRADED_KEYS = ("grade", "grade_id", "locked", "points", "solution", "task")


def _graded_keys(meta: dict) -> dict:
    """The nbgrader keys a student could edit to gain something (points, what is graded).

    Keys nbgrader writes itself on release (`checksum`, `cell_type`, `schema_version`) are left
    out, so an untouched release notebook is never reported as edited; missing and false
    flags are the same thing, and points compare as numbers.
    """
    kept = {}
    for key in GRADED_KEYS:
        value = meta.get(key)
        if key == "points":
            try:
                value = float(value or 0)
            except (TypeError, ValueError):
                value = str(value)
        elif key != "grade_id":
            value = bool(value)
        kept[key] = value
    return kept


def _strip_nbgrader(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell.get("metadata", {}).pop("nbgrader", None)
    return cell


def _answer_cell(cell: dict, reference: dict, notes: list[str]) -> nbformat.NotebookNode:
    """The student's answer with the master's cell type and metadata."""
    grade_id = nbgrader_meta(reference)["grade_id"]
    answer = _clean_cell(cell)
    if answer.cell_type != reference["cell_type"]:
        notes.append(
            f"answer cell {grade_id} was changed from {reference['cell_type']} to "
            f"{answer.cell_type}; graded it as {reference['cell_type']}"
        )
        fresh = _from_master(reference)
        fresh.source = answer.source
        answer = fresh
    changed = _graded_keys(nbgrader_meta(answer)) != _graded_keys(nbgrader_meta(reference))
    if changed:
        notes.append(f"metadata of cell {grade_id} was edited; used the master's (points, ids)")
    answer.metadata = copy.deepcopy(reference.get("metadata", {}))
    return answer


def _insert_missing(
    merged: list[nbformat.NotebookNode],
    master: nbformat.NotebookNode,
    master_order: list[str],
    placed: set[str],
    notes: list[str],
    new_in_master: set[str],
    markers: Markers = DEFAULT,
) -> None:
    """Insert deleted master cells after the nearest preceding master cell that is present."""
    for position, grade_id in enumerate(master_order):
        if grade_id in placed:
            continue
        reference = next(c for c in master.cells if nbgrader_meta(c).get("grade_id") == grade_id)
        fresh = _from_master(reference)
        if grade_id in new_in_master:
            kind = "test" if is_test_cell(reference) else "cell"
            notes.append(
                f"{kind} {grade_id} is new in the master (added after your copy was released); "
                + ("graded" if is_test_cell(reference) else "added")
            )
            if not is_locked(reference):
                fresh.source = unanswered(reference, markers)
        elif is_test_cell(reference):
            notes.append(f"test cell {grade_id} was deleted; restored from the master and graded")
        elif is_locked(reference):
            notes.append(f"locked cell {grade_id} was deleted; restored from the master")
        else:
            fresh.source = unanswered(reference, markers)
            notes.append(f"answer cell {grade_id} was deleted; graded as unanswered")
        anchor = -1
        for previous in reversed(master_order[:position]):
            found = [
                i for i, c in enumerate(merged) if nbgrader_meta(c).get("grade_id") == previous
            ]
            if found and previous in placed:
                anchor = found[0]
                break
        merged.insert(anchor + 1, fresh)
        placed.add(grade_id)


def prepare(
    submission: Path,
    master: Path,
    *,
    assignment: str,
    limits: Limits | None = None,
    new_in_master: frozenset[str] | set[str] = frozenset(),
    markers: Markers = DEFAULT,
) -> Prepared:
    """Read `submission`, check it belongs to `master`, and return the notebook to execute."""
    limits = limits or Limits()
    name = submission.name
    from nngrade.grading.intake import submission_problem

    problem = submission_problem(submission, limits.max_submission_mb)
    if problem:
        raise SubmissionError(problem)
    size_mb = submission.stat().st_size / 1e6
    if size_mb > limits.max_file_mb:
        raise SubmissionError(
            f"{name} is {size_mb:.0f} MB, over the {limits.max_file_mb} MB limit. Likely cause: "
            "huge outputs (printed arrays, images); clear outputs (Kernel > Restart and Clear "
            "Outputs) and submit again"
        )
    notes: list[str] = []
    text = decode(submission.read_bytes(), name, notes)
    nb = parse(text, name)
    if size_mb > 5:
        notes.append(f"{name} is {size_mb:.0f} MB (large outputs); outputs were cleared")
    master_nb = read_master(master)
    try:
        prepared = repair(
            nb,
            master_nb,
            assignment=assignment,
            name=name,
            new_in_master=new_in_master,
            markers=markers,
        )
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as err:
        # malformed beyond what parse() checks: this student's status, not a grader crash
        raise SubmissionError(
            f"{name} could not be merged with the assignment's cells ({type(err).__name__}: "
            f"{str(err)[:200]}); open it in Jupyter, save it and submit again"
        ) from None
    prepared.notes[:0] = notes
    return prepared
