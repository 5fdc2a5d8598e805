"""Time and peak memory of one student's feedback page, hostile notebooks, with and without
the caps of `nngrade.grading.caps` (issue 13: "one 1 MB code cell took feedback 49 s and
1.18 GB; 100k markdown cells took 85 s"), and the size of a graded copy whose cells each
raise `ValueError('x' * 65536)`.

Each render runs in a fresh Python process; its wall time and peak RSS (ru_maxrss) are
printed side by side. "uncapped" is the page as nngrade made it before the caps (nbconvert on
the whole notebook); "capped" is what `nngrade feedback` does now (caps, then render,
sanitize). Usage: .venv/bin/python benchmarks/feedback_render.py [--skip-uncapped]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

CHILD = """
import json, sys, time, resource
from pathlib import Path
import nbformat
path, mode = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if mode == "capped":  # what nngrade feedback does per notebook now: read, cut, render
    from nngrade.commands.feedback import _render
    page = _render(Path(path), [], {})
else:  # before the caps: read and render the whole notebook
    from nngrade.grading.offline_html import OfflineHTMLExporter
    nb = nbformat.read(path, as_version=4)
    page, _ = OfflineHTMLExporter().from_notebook_node(nb)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "page_mb": len(page) / 2**20}))
"""


def one_mb_code_cell() -> nbformat.NotebookNode:
    line = "x = [" + ", ".join(str(i) for i in range(40)) + "]  # padding padding\n"
    source = line * (2**20 // len(line))
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])


def many_markdown_cells(n: int = 100_000) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell(f"cell {i}: *some* `text` $x_{i}$") for i in range(n)]
    return nbformat.v4.new_notebook(cells=cells)


def raising_cells(n: int = 1000) -> nbformat.NotebookNode:
    """A graded copy as the executor would store it: every cell raised ValueError('x'*65536)."""
    cells = []
    for _ in range(n):
        cell = nbformat.v4.new_code_cell("raise ValueError('x' * 65536)")
        text = "x" * 65536
        cell.outputs = [
            nbformat.v4.new_output(
                "error",
                ename="ValueError",
                evalue=text,
                traceback=["Traceback (most recent call last):", f"ValueError: {text}"],
            )
        ]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def render(path: Path, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True
    )
    if out.returncode and "PageTooLarge" in out.stderr:  # the designed outcome: not read
        return {"seconds": float("nan"), "peak_mb": float("nan"), "page_mb": 0.0}
    if out.returncode:
        raise RuntimeError(f"the {mode} render failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def graded_copy_sizes(tmp: Path) -> tuple[int, int, float]:
    """Bytes of the graded copy of `raising_cells()` written raw, and as records.save writes
    it (with the caps), and the seconds records.save took."""
    from nngrade.grading import records
    from nngrade.grading.results import GradeReport

    raw = tmp / "raw.ipynb"
    nbformat.write(raising_cells(), str(raw))
    report = GradeReport("a", "s", "graded", "", [], raising_cells())
    start = time.perf_counter()
    records.save(tmp / "autograded", "s", "a", "a", "k", report, "x")
    seconds = time.perf_counter() - start
    saved = records.paths(tmp / "autograded", "s", "a", "a")[0]
    return raw.stat().st_size, saved.stat().st_size, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-uncapped", action="store_true", help="only the capped renders")
    args = parser.parse_args()
    modes = ["capped"] if args.skip_uncapped else ["uncapped", "capped"]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        cases = {
            "one 1 MB code cell": one_mb_code_cell(),
            "100,000 markdown cells": many_markdown_cells(),
            "1,000 cells, each ValueError('x' * 65536)": raising_cells(),
        }
        print(f"{'notebook':44} {'mode':9} {'seconds':>8} {'peak MB':>8} {'page MB':>8}")
        for name, nb in cases.items():
            path = tmp / "case.ipynb"
            nbformat.write(nb, str(path))
            for mode in modes:
                got = render(path, mode)
                print(
                    f"{name:44} {mode:9} {got['seconds']:8.1f} {got['peak_mb']:8.0f} "
                    f"{got['page_mb']:8.2f}"
                )
        raw, saved, seconds = graded_copy_sizes(tmp)
        print(
            f"graded copy of 1,000 raising cells: {raw / 2**20:.1f} MB uncapped, "
            f"{saved / 2**20:.2f} MB as saved ({seconds:.1f} s); parent peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )


if __name__ == "__main__":
    main()
