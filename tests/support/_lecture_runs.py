"""Run a lecture notebook in a fresh kernel (nbclient) once per test session and keep the result.

Shared by test_lecture_notebooks.py (does every cell run, how long does it take),
test_lecture_widgets.py (probe cells appended after the lecture drive its sliders in the same
kernel) and test_book.py (the site shows the executed lectures), so each notebook executes only
once per test session. Under pytest-xdist (`make test` runs two workers) the workers share the
runs through a folder of the session's own temporary directory (the `lecture_runs` fixture of
tests/course/conftest.py): the first worker to need a lecture runs it, holding a lock on it, and
writes the result; a worker that needs it later reads that file instead of running it again.
The folder lives and dies with the test session, so a new session always executes every lecture.
"""

from __future__ import annotations

import fcntl
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

    def to_json(self) -> str:
        """The run as JSON (the executed notebook as nbformat writes it), for another worker."""
        names = ("name", "lecture_cells", "seconds", "error", "error_cell", "extra")
        fields = {k: getattr(self, k) for k in names}
        notebook = nbformat.writes(self.notebook) if self.notebook is not None else None
        return json.dumps({**fields, "notebook": notebook})

    @classmethod
    def from_json(cls, text: str) -> LectureRun:
        """The run another worker wrote with `to_json`."""
        fields = json.loads(text)
        notebook = fields.pop("notebook")
        run = cls(**fields)
        run.notebook = nbformat.reads(notebook, as_version=4) if notebook is not None else None
        return run

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


def run_lecture(name: str, shared: Path | None = None) -> LectureRun:
    """The run of notebooks/<name>: executed once per process, and once per session when the
    processes of one session (pytest-xdist workers) pass the same `shared` folder."""
    if shared is None:
        return _run_here(name)
    return _run_shared(name, shared)


def _run_shared(name: str, shared: Path) -> LectureRun:
    """Run the lecture unless another process of the session did; wait while one is running it."""
    shared.mkdir(parents=True, exist_ok=True)
    result = shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        if result.is_file():
            return _read_shared(result)
        run = _run_here(name)
        partial = result.with_suffix(".partial")
        partial.write_text(run.to_json(), encoding="utf-8")
        partial.replace(result)  # atomic: a reader sees the whole run or none
        return run


@functools.cache
def _read_shared(path: Path) -> LectureRun:
    return LectureRun.from_json(path.read_text(encoding="utf-8"))


@functools.cache
def _run_here(name: str) -> LectureRun:
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
