"""Text from students made safe for the instructor's spreadsheet and terminal.

Student ids, reasons and messages are written into CSV files and printed: a cell starting with
`=`, `+`, `-`, `@`, a tab or a carriage return is a formula to a spreadsheet (OWASP's CSV
injection), also after leading spaces or quotes (which some importers trim) and in full-width
forms (`＝`, which some locales read as `=`); escape sequences in printed text drive the
instructor's terminal (colours, cursor moves that hide lines, window titles, hyperlinks), and
bidi controls reorder what it shows.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
# ESC/CSI/OSC sequences, then remaining C0 (but tab, newline, CR) and C1 control characters,
# and the bidirectional overrides that reorder what is displayed
TERMINAL_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b[@-Z\\-_]?"  # other escapes (and a lone ESC)
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# what an importer may skip before the first character it reads: spaces (any width), quotes,
# zero-width and other format characters, controls
_SKIPPED = re.compile(r"""^[\s"'\u200b-\u200f\u2060-\u206f\ufeff\x00-\x1f\x7f-\x9f]+""")


def is_formula(value: str) -> bool:
    """Would a spreadsheet read `value` as a formula (or DDE command)? Numbers are not."""
    if value.startswith(("\t", "\r", "\n")):
        return True
    head = _SKIPPED.sub("", unicodedata.normalize("NFKC", value))
    return head.startswith(FORMULA_START) and not NUMBER.match(head.rstrip())


def csv_cell(value: Any) -> Any:
    """One CSV cell, neutralised as OWASP recommends: text starting with a formula character
    gets a leading apostrophe, also when spaces, quotes or invisible characters come first or the
    character is a full-width form (numbers such as "-1.5" are left as numbers)."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose every cell goes through `csv_cell`."""

    def __init__(self, handle, **kwargs) -> None:
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row) -> None:
        """Write one neutralised row."""
        self._writer.writerow([csv_cell(v) for v in row])


def strip_control(text: str, keep_cr: bool = False) -> str:
    """`text` without terminal escape sequences and control characters (newlines and tabs
    kept; carriage returns only with `keep_cr`, for progress bars)."""
    text = TERMINAL_CONTROL.sub("", text)
    return text if keep_cr else text.replace("\r", "")


class CleanStream:
    """A text stream wrapper that strips terminal control characters from everything written."""

    def __init__(self, stream, keep_cr: bool = False) -> None:
        self._stream = stream
        self._keep_cr = keep_cr

    def write(self, text: str) -> int:
        """Write `text` without control characters; returns the length given (as files do)."""
        self._stream.write(strip_control(text, self._keep_cr))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def clean_std_streams() -> tuple[Any, Any]:
    """Wrap sys.stdout/sys.stderr in CleanStream; returns the originals (to restore)."""
    saved = sys.stdout, sys.stderr
    sys.stdout = CleanStream(sys.stdout)
    sys.stderr = CleanStream(sys.stderr, keep_cr=True)
    return saved


def one_line(text: str, limit: int = 200) -> str:
    """Student text for one line of a terminal (a progress bar): no controls, no line breaks,
    at most `limit` characters."""
    flat = strip_control(text).replace("\n", " ").replace("\t", " ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def escaped(text: str) -> str:
    """`text` with every control, format and line-separator character written as an escape
    (`\\n`, `\\x1b`, `\\u202e`): a name printed in a listing shows what it is, and cannot
    start a fake line, reorder the line or drive the terminal."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
        else ch
        for ch in text
    )
