"""Text from students made safe for the instructor's spreadsheet and terminal.

Student ids, reasons and messages are written into CSV files and printed: a cell starting with
`=`, `+`, `-`, `@`, a tab or a carriage return is a formula to a spreadsheet (OWASP's CSV
injection), and escape sequences in printed text drive the instructor's terminal (colours,
cursor moves that hide lines, window titles, hyperlinks).
"""

from __future__ import annotations

import csv
import re
import sys
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
# ESC/CSI/OSC sequences, then remaining C0 (but tab, newline, CR) and C1 control characters,
# and the bidirectional overrides that reorder what is displayed
TERMINAL_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST
    r"|\x1b[@-Z\\-_]?"  # other escapes (and a lone ESC)
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]"
)


def csv_cell(value: Any) -> Any:
    """One CSV cell, neutralised as OWASP recommends: text starting with a formula character
    gets a leading apostrophe (numbers such as "-1.5" are left as numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
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
