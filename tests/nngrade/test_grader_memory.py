"""The grader's own memory stays under 1 GB whatever one submission sends back (issue 13).

Each attack is graded alone in a fresh process (benchmarks/grader_memory.py `--one`), which
reports its peak resident set size (the grader only: the sandbox is a separate process). No
timing is asserted; the process has an address-space cap of 6 GB so that a regression fails
here instead of exhausting the machine. `make bench-grader-memory` prints every attack's figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import grader_memory  # noqa: E402

pytestmark = pytest.mark.slow

# attack -> (its score: what its honest part earns, a reason its student is given)
BOUNDED = {
    "decode_amplification": (0.0, "frame header larger than 8 MB"),
    "nested_lists": (0.0, "frame header larger than 8 MB"),
    "hash_collision": (0.0, "returned a value the grader refuses: dict with more than"),
    "broadcast_inflation": (3.0, "the test's work on the returned values needed more than"),
    "error_text_flood": (0.0, "your softmax(...) raised ValueError"),
}


@pytest.mark.parametrize("name", sorted(BOUNDED))
def test_grader_memory_stays_under_the_bound(name):
    row = grader_memory.measure(name, cap_gb=6, timeout=900)
    assert row["status"] == "graded", row
    assert row["peak_mb"] is not None and row["peak_mb"] < grader_memory.BOUND_MB, row
    assert row["graded_copy_mb"] < 4, row  # outputs capped: 2 MB of text (was 33 MB)
    score, reason = BOUNDED[name]
    assert row["score"] == score, row
    assert any(reason in text for text in row["reasons"]), row


# render bombs (batch_attacks.RENDER_ATTACKS) through feedback, report and export; the others
# of that list are measured by `benchmarks/grader_memory.py --pipeline` (docs/benchmarks.md)
PIPELINE = ["json_deep", "md_brackets", "code_cell_1mb", "image_50mb", "latex_nested_frac"]


@pytest.mark.parametrize("name", PIPELINE)
def test_batch_commands_bounded_on_a_render_bomb(name):
    row = grader_memory.measure(name, cap_gb=6, timeout=900)
    assert row["status"] == "done", row  # json_deep: RecursionError in caps (was)
    assert row["peak_mb"] < grader_memory.BOUND_MB, row
    assert row["copy_mb"] < 4 and row["page_mb"] < 4, row
    assert row["notebook_shown"], row  # the honest part of the notebook is on the page
