"""Run a lecture notebook in a fresh kernel (nbclient) once per test session and keep the result.

Shared by test_lecture_notebooks.py (does every cell run, how long does it take) and
test_lecture_widgets.py (probe cells appended after the lecture drive its sliders in the same
kernel), so each notebook executes only once per pytest process.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
LECTURES = sorted(p.name for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 300  # generous: a shared 2-core machine; run times are reported, not asserted

# Appended after the lecture cells: for every SliderFigure the lecture left in its namespace,
# move each control to another value and report, as JSON, whether the PNG changed.
PROBE_SOURCE = r"""
import json as _json
from nnhelpers.widgets import SliderFigure as _SliderFigure


def _other_value(control):
    "A value different from the control's current one, inside its range or options."
    if hasattr(control, "options"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(o for o in options if o != control.value)
    if hasattr(control, "base"):                      # FloatLogSlider: min/max are exponents
        low, high = control.base ** control.min, control.base ** control.max
    else:
        low, high = control.min, control.max
    target = low + 0.8 * (high - low)
    if abs(target - control.value) < 0.05 * (high - low):
        target = low + 0.2 * (high - low)
    return type(control.value)(target)


_report = {}
for _name, _obj in list(globals().items()):
    if isinstance(_obj, _SliderFigure) and not _name.startswith("_"):
        _moves, _initial_status = {}, getattr(_obj, "status", None)
        for _key, _control in _obj.sliders.items():
            _before = _obj.png
            _old, _new = _control.value, _other_value(_control)
            _control.value = _new
            _moves[_key] = {"from": repr(_old), "to": repr(_control.value),
                            "png_changed": _obj.png != _before, "error": _obj.error,
                            "status": getattr(_obj, "status", None)}
            _control.value = _old
        _report[_name] = {"type": type(_obj).__name__, "moves": _moves,
                          "status": _initial_status,
                          "png_restored_size": len(_obj.png)}
print("WIDGET-PROBE " + _json.dumps(_report))
"""


@dataclass
class LectureRun:
    """What happened when one lecture notebook ran: timing, first error, probe outputs."""

    name: str
    lecture_cells: int
    seconds: float | None = None  # kernel start to the end of the last lecture cell
    error: str | None = None
    error_cell: int | None = None  # index of the failing cell (probe cells come after lectures)
    notebook: nbformat.NotebookNode | None = None
    extra: dict = field(default_factory=dict)

    @property
    def lecture_ok(self) -> bool:
        return self.error_cell is None or self.error_cell >= self.lecture_cells

    def probe_report(self) -> dict:
        """The JSON the widget probe printed, or {} when it did not run."""
        for cell in self.notebook.cells[self.lecture_cells :] if self.notebook else []:
            for output in cell.get("outputs", []):
                text = output.get("text", "")
                for line in text.splitlines():
                    if line.startswith("WIDGET-PROBE "):
                        return json.loads(line[len("WIDGET-PROBE ") :])
        return {}


@functools.cache
def run_lecture(name: str) -> LectureRun:
    """Execute notebooks/<name> top to bottom plus the widget probe, in a fresh python3 kernel."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    lectures = len(nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE_SOURCE))
    run = LectureRun(name=name, lecture_cells=lectures)
    started = time.perf_counter()

    def finished_cell(cell, cell_index, execute_reply):
        if cell_index < lectures:  # the last lecture code cell to finish sets the time
            run.seconds = time.perf_counter() - started

    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        on_cell_executed=finished_cell,
    )
    # Figures render as for a student (inline backend), so drawing errors surface here too;
    # the test process itself may use Agg (conftest), which the kernel would inherit.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    try:
        client.execute(env=env)
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError
        run.error = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # drop the traceback colours
        run.error_cell = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        if run.error_cell is None:
            run.error_cell = -1
    run.notebook = nb
    return run
