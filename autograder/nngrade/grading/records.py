"""Per-submission grading records on disk: the resumable state of `nngrade autograde`.

autograded/<student>/<assignment>/<notebook>.ipynb is the graded copy (hidden tests redacted) and
<notebook>.nngrade.json holds the outcome and the key it was graded under (submission, master,
grader version, executor, limits, markers): a record with the same key means "already graded,
skip".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from nngrade import __version__
from nngrade.grading.caps import cap_outputs
from nngrade.grading.markers import Markers
from nngrade.grading.results import GradeReport, Limits

# r2: grader faults got their own status; records made before may hold a grader fault
# recorded as "could not grade", so every submission is graded once more.
# r3: graded copies keep capped outputs (caps.py) and no student output made after the first
# hidden test (redact.withhold_after_hidden), so copies made before are graded again.
# r4: verdicts changed: a graded function that changes an array argument in place fails that
# call, complex values fail as a dtype error, hidden checks' messages are declassified, and
# hidden tests run in a throw-away copy of the kernel (later outputs shown again).
GRADER_VERSION = f"nngrade-{__version__}-r4"
FINAL_STATUSES = ("graded", "could-not-grade")  # real results, reused when the key matches


MAX_REASON_CHARS = 2_000  # a could-not-grade reason or test message kept in records and outputs
SURROGATE = re.compile("[\ud800-\udfff]")


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks ("" when it is missing)."""
    if not path.is_file():
        return ""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def short(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """`text` cut to `limit` characters (with a note saying how much was cut)."""
    if not isinstance(text, str):
        text = str(text)
    return (
        text if len(text) <= limit else text[:limit] + f" ... [{len(text) - limit} characters cut]"
    )


def clean_text(value):
    """`value` (a notebook or JSON tree) with lone surrogates replaced by U+FFFD.

    A lone surrogate (e.g. '\\ud800' in a markdown cell) cannot be encoded as UTF-8: writing
    the graded copy would fail, so it is replaced rather than left to abort the run.
    """
    if isinstance(value, str):
        return SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        for key in list(value):
            value[key] = clean_text(value[key])
        return value
    if isinstance(value, list):
        value[:] = [clean_text(item) for item in value]
        return value
    return value


def reusable(record: dict | None, key: str) -> bool:
    """True when `record` is a real result made under `key` (grader faults never are)."""
    return bool(record) and record.get("key") == key and record.get("status") in FINAL_STATUSES


def grading_key(
    submission: Path, master: Path, executor: str, limits: Limits, markers: Markers
) -> str:
    """Hash of everything that decides a grade; a change means "grade again".

    The markers are part of it: the same master read with other delimiters (the course's
    `ClearHiddenTests` / `ClearSolutions` configuration) has other hidden tests and solutions.
    """
    digest = hashlib.sha256()
    for part in (submission, master):
        digest.update((file_hash(part) or "<missing>").encode())
        digest.update(b"\0")
    decides = [GRADER_VERSION, executor, asdict(limits), asdict(markers)]
    digest.update(json.dumps(decides, sort_keys=True).encode())
    return digest.hexdigest()


def paths(autograded: Path, student: str, assignment: str, notebook: str) -> tuple[Path, Path]:
    """(graded notebook, record json) of one submission."""
    folder = autograded / student / assignment
    return folder / f"{notebook}.ipynb", folder / f"{notebook}.nngrade.json"


def load(autograded: Path, student: str, assignment: str, notebook: str) -> dict | None:
    """The stored record, or None when there is none (or it is unreadable)."""
    record_path = paths(autograded, student, assignment, notebook)[1]
    try:
        return json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def save(
    autograded: Path,
    student: str,
    assignment: str,
    notebook: str,
    key: str,
    report: GradeReport,
    executor: str,
    *,
    master: Path | None = None,
) -> Path:
    """Write the graded copy, then the record (atomically: a killed run leaves no half record).

    The record keeps the master's hash and grade ids, so outputs can tell when the master
    changed since (stale grades) and which tests are new in it. A grader fault is saved
    with an empty key: it shows in every output but is never reused.
    """
    nb_path, record_path = paths(autograded, student, assignment, notebook)
    nb_path.parent.mkdir(parents=True, exist_ok=True)
    if report.notebook is not None:
        tmp_nb = nb_path.with_suffix(".tmp.ipynb")
        nbformat.write(clean_text(cap_outputs(report.notebook)), str(tmp_nb))
        os.replace(tmp_nb, nb_path)
    elif nb_path.exists():
        nb_path.unlink()
    data = clean_text(report.to_json())
    data["reason"] = short(data.get("reason") or "")
    data["notebook"] = notebook
    data["key"] = key if report.status in FINAL_STATUSES else ""
    if master is not None:
        data["master_sha256"] = file_hash(master)
        data["cells"] = master_grade_ids(master)
    data["executor"] = executor
    data["graded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    data["seconds"] = report.seconds
    for entry, test in zip(data["tests"], report.tests, strict=True):
        entry["hidden"] = test.hidden
        entry["isolated"] = test.isolated
        entry["message"] = short(entry.get("message") or "")
    tmp = record_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, record_path)
    return record_path


def master_grade_ids(master: Path) -> list[str]:
    """Grade ids of every nbgrader cell of a master notebook, in order."""
    from nngrade.grading.prepare import nbgrader_meta

    nb = nbformat.read(str(master), as_version=4)
    return [g for c in nb.cells if (g := nbgrader_meta(c).get("grade_id"))]


def all_records(autograded: Path, assignment: str) -> dict[str, list[dict]]:
    """student -> records of every graded notebook of the assignment."""
    found: dict[str, list[dict]] = {}
    if not autograded.is_dir():
        return found
    for record_path in sorted(autograded.glob(f"*/{assignment}/*.nngrade.json")):
        try:
            data = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        data["reason"] = short(data.get("reason") or "")  # records of older versions too
        for test in data.get("tests", []):
            test["message"] = short(test.get("message") or "")
        found.setdefault(record_path.parent.parent.name, []).append(data)
    return found
