"""Intake attacks: notebooks, zips and student-id folders built to break `nngrade collect` and
the reading of a submission (prepare) rather than to cheat inside the sandbox.

`NOTEBOOK_ATTACKS`: the bytes of one student's notebook; each is either refused with a reason
(`refused` is a fragment of it) or read and graded like the honest notebook it carries
(`refused` empty: the student keeps every point). `ZIP_ATTACKS`: members added to a class zip
beside honest students; each is left out with a problem naming it. `ID_ATTACKS`: student folder
names that must not become gradebook ids. tests/nngrade/test_adversarial_batch.py runs them
all (fast); test_adversarial_cli.py puts the notebooks and ids in the class run.
"""

from __future__ import annotations

import codecs
import json
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotebookAttack:
    """A submitted file, built from the honest notebook's JSON (a dict)."""

    name: str
    build: Callable[[dict], bytes]
    refused: str = ""  # a fragment of the reason; "" = graded as the honest notebook
    why: str = ""


def _dump(nb: dict) -> bytes:
    return json.dumps(nb).encode()


def _with_cells(nb: dict, extra: list[dict]) -> bytes:
    return _dump(dict(nb, cells=nb["cells"] + extra))


def _each_cell(nb: dict, **changes) -> bytes:
    return _dump(dict(nb, cells=[dict(c, **changes) for c in nb["cells"]]))


def _code(source, **extra) -> dict:
    cell = {"cell_type": "code", "metadata": {}, "source": source, "execution_count": None}
    return {"outputs": [], "id": "x1", **cell, **extra}


def _deep(nb: dict) -> bytes:
    body = json.dumps(nb)
    return (body[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()


def _bidi_grade_id(nb: dict) -> bytes:
    cells = [dict(c) for c in nb["cells"]]
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and meta.get("grade_id"):
            cell["metadata"] = {"nbgrader": dict(meta, grade_id=meta["grade_id"] + "\u202e")}
    return _dump(dict(nb, cells=cells))


def _missing_keys(nb: dict) -> bytes:
    """Cells without metadata (unless graded), outputs or execution counts: hand-edited files
    that Jupyter still opens."""
    cells = []
    for cell in nb["cells"]:
        cell = dict(cell)
        if not cell.get("metadata", {}).get("nbgrader"):
            cell.pop("metadata", None)
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
        cells.append(cell)
    return _dump(dict(nb, cells=cells))


NOTEBOOK_ATTACKS = [
    NotebookAttack("not_json", lambda nb: b"PK\x03\x04 not a notebook", "not valid notebook JSON"),
    NotebookAttack("deep_nesting", _deep, "nested deeper", "RecursionError in json.loads"),
    NotebookAttack(
        "huge_int",
        lambda nb: _dump(nb)[:-1] + b', "x": ' + b"9" * 100_000 + b"}",
        "4300 digits",
        "ValueError (int digits limit) escaped as a grader fault",
    ),
    NotebookAttack(
        "nan_literal",
        lambda nb: _dump(nb)[:-1] + b', "x": NaN}',
        "NaN, which is not JSON",
    ),
    NotebookAttack(
        "infinity_literal", lambda nb: _dump(nb)[:-1] + b', "x": -Infinity}', "Infinity"
    ),
    NotebookAttack("utf8_bom", lambda nb: codecs.BOM_UTF8 + _dump(nb)),
    NotebookAttack("utf16", lambda nb: json.dumps(nb).encode("utf-16")),
    NotebookAttack("utf32", lambda nb: json.dumps(nb).encode("utf-32")),
    NotebookAttack("nbformat_v3", lambda nb: _dump(dict(nb, nbformat=3)), "version 3 notebook"),
    NotebookAttack(
        "nbformat_v5_99", lambda nb: _dump(dict(nb, nbformat=5, nbformat_minor=99)), "version 5"
    ),
    NotebookAttack(
        "nbformat_string", lambda nb: _dump(dict(nb, nbformat="4")), "version 4 notebook"
    ),
    NotebookAttack(
        "cells_without_ids",
        lambda nb: _dump(
            dict(nb, cells=[{k: v for k, v in c.items() if k != "id"} for c in nb["cells"]])
        ),
    ),
    NotebookAttack("duplicate_cell_ids", lambda nb: _each_cell(nb, id="same")),
    NotebookAttack("cells_missing_keys", _missing_keys, why="must stay gradeable"),
    NotebookAttack(
        "duplicate_keys",  # json keeps the last; so does Jupyter
        lambda nb: (
            _dump(dict(nb, cells=[]))[:-1]
            + b', "cells": '
            + json.dumps(nb["cells"]).encode()
            + b"}"
        ),
    ),
    NotebookAttack(
        "ten_thousand_and_one_cells",
        lambda nb: _with_cells(
            nb, [{"cell_type": "raw", "metadata": {}, "source": ""} for _ in range(10_001)]
        ),
        "cells, over the",
        "10**5 to 10**6 cells took nbformat minutes to validate",
    ),
    NotebookAttack(
        "hundred_thousand_outputs",
        lambda nb: _with_cells(
            nb,
            [
                _code(
                    "", outputs=[{"output_type": "stream", "name": "stdout", "text": "x"}] * 100_000
                )
            ],
        ),
        why="validated output by output: 28 s",
    ),
    NotebookAttack(
        "giant_attachment",
        lambda nb: _with_cells(
            nb,
            [
                {
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": "![a](attachment:a.png)",
                    "attachments": {"a.png": {"image/png": "iVBORw0KGgo" + "A" * 20_000_000}},
                }
            ],
        ),
    ),
    NotebookAttack("source_int", lambda nb: _each_cell(nb, source=5), "source is not text"),
    NotebookAttack("source_dict", lambda nb: _each_cell(nb, source={"a": 1}), "source is not text"),
    NotebookAttack(
        "source_million_strings", lambda nb: _with_cells(nb, [_code(["x"] * 1_000_000)])
    ),
    NotebookAttack(
        "source_list_of_ints", lambda nb: _with_cells(nb, [_code([1, 2])]), "source is not text"
    ),
    NotebookAttack("metadata_list", lambda nb: _dump(dict(nb, metadata=[1])), "metadata is not"),
    NotebookAttack(
        "cell_metadata_text", lambda nb: _each_cell(nb, metadata="x"), "metadata is not"
    ),
    NotebookAttack(
        "nbgrader_metadata_text",
        lambda nb: _each_cell(nb, metadata={"nbgrader": "x"}),
        "nbgrader metadata is not",
    ),
    NotebookAttack(
        "grade_id_list",
        lambda nb: _each_cell(nb, metadata={"nbgrader": {"grade_id": ["x"], "grade": True}}),
        "grade_id is not text",
    ),
    NotebookAttack(
        "points_text",
        lambda nb: _each_cell(nb, metadata={"nbgrader": {"grade_id": "x", "points": "1e9"}}),
        "points are not a number",
    ),
    NotebookAttack("cells_not_objects", lambda nb: _dump(dict(nb, cells=[1, "x", None])), "cell 1"),
    NotebookAttack(
        "unknown_cell_type", lambda nb: _each_cell(nb, cell_type="heading"), "not a code"
    ),
    NotebookAttack("top_level_list", lambda nb: b"[1, 2, 3]", "not a Jupyter notebook"),
    NotebookAttack(
        "bidi_grade_ids", _bidi_grade_id, "does not belong", "grade ids that look like the master's"
    ),
]
BY_NAME = {a.name: a for a in NOTEBOOK_ATTACKS}


# -- the class zip ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZipAttack:
    """Hostile members written into a class zip beside honest students' folders."""

    name: str
    write: Callable[[zipfile.ZipFile, bytes], None]  # (the archive, a notebook's bytes)
    member: str  # a fragment of the problem that must name it
    after: Callable[[Path], None] | None = None  # edits the written zip's bytes


def _put(name: str, flags: int = 0, mode: int = 0):
    def write(archive: zipfile.ZipFile, notebook: bytes) -> None:
        info = zipfile.ZipInfo(name)
        info.flag_bits |= flags
        if mode:
            info.external_attr = mode << 16
        archive.writestr(info, notebook)

    return write


def _twice(archive: zipfile.ZipFile, notebook: bytes) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        archive.writestr("twin/adv.ipynb", notebook)
        archive.writestr("twin/adv.ipynb", b"{}")


def _file_then_folder(archive: zipfile.ZipFile, notebook: bytes) -> None:
    archive.writestr("clash", b"a file where a folder follows")
    archive.writestr("clash/adv.ipynb", notebook)


ZIP_ATTACKS = [
    ZipAttack("zip_slip", _put("../escaped/adv.ipynb"), "../escaped"),
    ZipAttack("zip_slip_deep", _put("a/../../escaped2/adv.ipynb"), "escaped2"),
    ZipAttack("zip_slip_backslash", _put("..\\escaped3\\adv.ipynb"), "escaped3"),
    ZipAttack("absolute_name", _put("/tmp/nngrade-abs/adv.ipynb"), "/tmp/nngrade-abs"),
    ZipAttack("dot_folder", _put("./dotted/adv.ipynb"), "dotted"),
    ZipAttack("duplicate_member", _twice, "twin/adv.ipynb"),
    ZipAttack("symlink_member", _put("linked/adv.ipynb", mode=stat.S_IFLNK | 0o777), "linked"),
    ZipAttack("name_too_long", _put("m" * 300 + "/adv.ipynb"), "mmmm"),
    ZipAttack("file_then_folder", _file_then_folder, "clash/adv.ipynb"),
    ZipAttack(
        "encrypted_member",
        _put("locked/adv.ipynb"),
        "locked",
        after=lambda path: _patch(path, "locked/adv.ipynb", encrypt=True),
    ),
    ZipAttack(
        "bad_crc",
        _put("flipped/adv.ipynb"),
        "flipped",
        after=lambda path: _patch(path, "flipped/adv.ipynb", flip=True),
    ),
    ZipAttack(
        "unsupported_compression",
        _put("aes/adv.ipynb"),
        "aes",
        after=lambda path: _patch(path, "aes/adv.ipynb", method=99),
    ),
    ZipAttack("nested_zip", _put("nested/adv.zip"), "nested"),
    ZipAttack("stray_top_level_file", _put("README"), "README"),
]


def _patch(path: Path, member: str, *, encrypt=False, flip=False, method=None) -> None:
    """Edit `member` of the zip at `path` in place: mark it encrypted (local and central
    headers), flip a byte of its data (its CRC then fails) or claim another compression."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    name = member.encode()
    local = info.header_offset
    central = [
        i
        for i in range(len(data) - 46)
        if data[i : i + 4] == b"PK\x01\x02" and data[i + 46 : i + 46 + len(name)] == name
    ]
    if encrypt:
        data[local + 6] |= 1
        for i in central:
            data[i + 8] |= 1
    if method is not None:
        data[local + 8 : local + 10] = method.to_bytes(2, "little")
        for i in central:
            data[i + 10 : i + 12] = method.to_bytes(2, "little")
    if flip:
        start = local + 30 + len(name) + len(info.extra)
        data[start + 5] ^= 0xFF
    path.write_bytes(bytes(data))


# -- student ids (folder names) ------------------------------------------------------------
ID_ATTACKS = {
    "newline": "mallory\n  imported alice",
    "carriage_return": "mallory\rzed",
    "escape": "\x1b[2J\x1b]0;pwned\x07mallory",
    "osc8_hyperlink": "\x1b]8;;http:\\\\127.0.0.1\x07mallory\x1b]8;;\x07",
    "bidi_override": "mallory\u202egpj.exe",
    "bidi_isolate": "\u2067mallory\u2069",
    "zero_width": "al\u200bice",
    "tab": "\tx",
    "leading_space": " alice",
    "nbsp": "alice\u00a0",
    "too_long": "m" * 250,
}
# pairs that are one id to a reader: (the first is collected too, only with its twin refused)
TWINS = [
    (unicodedata.normalize("NFC", "jos\u00e9"), unicodedata.normalize("NFD", "jos\u00e9")),
    ("Mallory", "mallory"),
    ("\uff4d\uff41\uff4c", "mal"),  # full-width letters
]
