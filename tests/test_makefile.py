"""The Makefile declares its command targets phony once, in one list, and names every one."""

from __future__ import annotations

import re
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"


def test_one_phony_line_names_every_command_target():
    text = MAKEFILE.read_text(encoding="utf-8")
    phony_lines = re.findall(r"^\.PHONY:(.*)$", text, flags=re.MULTILINE)
    assert len(phony_lines) == 1, f"{len(phony_lines)} .PHONY lines: keep one list at the top"
    phony = set(phony_lines[0].split())
    targets = set(re.findall(r"^([a-z][a-z-]*):", text, flags=re.MULTILINE))
    assert targets == phony, f"not phony: {targets - phony}; phony but no rule: {phony - targets}"
