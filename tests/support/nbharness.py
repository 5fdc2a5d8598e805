"""Mutation-testing harness: run a master notebook's graded test cells against variant functions.

The master notebook's ordinary code cells (solutions, set-up, demos) run once, in-process, into a
namespace; slow cells can be skipped. A *variant* then replaces some functions (by source text or
by function object), and the graded test cells, hidden tests included, run against it. Functions
of the notebook are re-bound to the variant's namespace, so a training loop that calls `fc` uses
the variant's `fc`. Typical use::

    harness = NotebookHarness(ROOT / "source/hw4_mlp/hw4_mlp.ipynb", skip={"slow"})
    results = harness.run_tests({"relu": "def relu(x):\\n    return x"}, only={"test_relu"})
    assert not results["test_relu"].passed
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import types
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import nbformat
from nngrade.grading.markers import strip_hidden

MAGIC_LINE = re.compile(r"^[ \t]*[%!].*$", re.MULTILINE)

Variant = Mapping[str, "str | Callable[..., Any] | Any"]


class TestResult(NamedTuple):
    """Outcome of one graded test cell: passed, points earned, and the student-facing message."""

    passed: bool
    points: float
    message: str


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell: nbformat.NotebookNode) -> bool:
    """True for an autograded test cell (nbgrader grade=True and solution=False)."""
    meta = _nbgrader(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def cell_labels(cell: nbformat.NotebookNode) -> set[str]:
    """Names a cell can be selected by: its nbgrader grade_id, its cell id and its tags."""
    labels = set(cell.get("metadata", {}).get("tags", []))
    if _nbgrader(cell).get("grade_id"):
        labels.add(_nbgrader(cell)["grade_id"])
    if cell.get("id"):
        labels.add(cell["id"])
    return labels


def python_source(source: str) -> str:
    """Cell source as plain Python: IPython magics and shell escapes become blank lines."""
    return MAGIC_LINE.sub("", source)


class NotebookHarness:
    """Executes a master notebook once and grades variants against its test cells.

    `skip` names cells (grade_id, cell id or tag) not to execute during set-up, e.g. slow
    training demos; `skip_if(cell)` is a further predicate. `hidden=False` strips the hidden
    tests (the student's view); by default they run, as in autograding.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        skip: Iterable[str] = (),
        skip_if: Callable[[nbformat.NotebookNode], bool] | None = None,
        hidden: bool = True,
        quiet: bool = True,
    ) -> None:
        self.path = Path(path)
        self.notebook = nbformat.read(self.path, as_version=4)
        self.skip = set(skip)
        self.skip_if = skip_if
        self.hidden = hidden
        self.quiet = quiet
        self.test_sources: dict[str, str] = {}
        self.max_points: dict[str, float] = {}
        for cell in self.notebook.cells:
            if is_test_cell(cell):
                grade_id = _nbgrader(cell).get("grade_id") or f"cell-{len(self.test_sources)}"
                source = cell.source if hidden else strip_hidden(cell.source)
                self.test_sources[grade_id] = python_source(source)
                self.max_points[grade_id] = float(_nbgrader(cell).get("points", 0) or 0)
        self._namespace: dict[str, Any] | None = None

    # -- set-up -----------------------------------------------------------------------------
    def _skipped(self, cell: nbformat.NotebookNode) -> bool:
        return bool(cell_labels(cell) & self.skip) or bool(self.skip_if and self.skip_if(cell))

    @contextlib.contextmanager
    def _in_notebook_dir(self):
        here = os.getcwd()
        os.chdir(self.path.parent)
        try:
            with contextlib.ExitStack() as stack:
                if self.quiet:
                    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
                yield
        finally:
            os.chdir(here)

    def setup(self) -> dict[str, Any]:
        """Run the non-test code cells once (cached) and return the resulting namespace."""
        if self._namespace is not None:
            return self._namespace
        os.environ.setdefault("MPLBACKEND", "Agg")
        namespace: dict[str, Any] = {
            "__name__": "__main__",
            "display": lambda *args, **kwargs: None,
        }
        with self._in_notebook_dir():
            for index, cell in enumerate(self.notebook.cells):
                if cell.cell_type != "code" or is_test_cell(cell) or self._skipped(cell):
                    continue
                code = compile(
                    python_source(cell.source), f"<{self.path.name} cell {index}>", "exec"
                )
                exec(code, namespace)  # noqa: S102 - the notebook is the course's own master
        self._namespace = namespace
        return namespace

    @property
    def namespace(self) -> dict[str, Any]:
        """The executed notebook's namespace (runs set-up on first use)."""
        return self.setup()

    # -- variants ---------------------------------------------------------------------------
    def namespace_for(self, variant: Variant | None = None) -> dict[str, Any]:
        """A fresh copy of the namespace with the variant's replacements applied.

        Every notebook function (and function object given in the variant) is re-bound to the
        copy, so functions that call each other by name see the replacements.
        """
        base = self.namespace
        ns = dict(base)
        for name, value in list(ns.items()):
            if isinstance(value, types.FunctionType) and value.__globals__ is base:
                ns[name] = _rebind(value, ns)
        for name, replacement in (variant or {}).items():
            if isinstance(replacement, str):
                exec(compile(replacement, f"<variant {name}>", "exec"), ns)  # noqa: S102
                if name not in ns:
                    raise KeyError(f"variant source for {name!r} does not define {name}")
            elif isinstance(replacement, types.FunctionType):
                ns[name] = _rebind(replacement, ns)
            else:
                ns[name] = replacement
        return ns

    def run_tests(
        self,
        variant: Variant | None = None,
        *,
        only: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> dict[str, TestResult]:
        """Run the graded test cells (all, or `only` these grade_ids) against a variant."""
        wanted = list(self.test_sources) if only is None else list(only)
        unknown = [g for g in wanted if g not in self.test_sources]
        if unknown:
            raise KeyError(f"no graded test cells {unknown}; known: {sorted(self.test_sources)}")
        excluded = set(exclude)
        ns = self.namespace_for(variant)
        results: dict[str, TestResult] = {}
        with self._in_notebook_dir():
            for grade_id in wanted:
                if grade_id in excluded:
                    continue
                results[grade_id] = self._run_cell(grade_id, ns)
        return results

    def _run_cell(self, grade_id: str, ns: dict[str, Any]) -> TestResult:
        cell_ns = dict(ns)  # test cells' own variables must not leak into the next cell
        try:
            exec(compile(self.test_sources[grade_id], f"<test {grade_id}>", "exec"), cell_ns)
        except AssertionError as error:
            return TestResult(False, 0.0, str(error) or "AssertionError without a message")
        except Exception as error:  # noqa: BLE001 - any error in a test cell loses its points
            return TestResult(False, 0.0, f"{type(error).__name__}: {error}")
        return TestResult(True, self.max_points[grade_id], "")

    # -- dependencies -----------------------------------------------------------------------
    def names_used_by(self, grade_id: str) -> set[str]:
        """Global names a test cell uses, directly or through the notebook functions it calls."""
        ns = self.namespace
        pending = _code_names(compile(self.test_sources[grade_id], grade_id, "exec"))
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            value = ns.get(name)
            if isinstance(value, types.FunctionType) and value.__globals__ is ns:
                pending |= _code_names(value.__code__)
        return seen

    def cells_affected_by(self, names: Iterable[str]) -> list[str]:
        """The graded test cells whose outcome can depend on any of `names` (for cheap runs)."""
        wanted = set(names)
        return [g for g in self.test_sources if self.names_used_by(g) & wanted]

    # -- summaries --------------------------------------------------------------------------
    @property
    def total_points(self) -> float:
        """Sum of the points of all graded test cells."""
        return sum(self.max_points.values())

    @staticmethod
    def score(results: Mapping[str, TestResult]) -> float:
        """Points earned in a results dictionary."""
        return sum(r.points for r in results.values())


def _code_names(code: types.CodeType) -> set[str]:
    """Global names referenced by a code object and the functions and lambdas nested in it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _rebind(function: types.FunctionType, namespace: dict[str, Any]) -> types.FunctionType:
    """Copy of `function` whose global names are looked up in `namespace`."""
    clone = types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )
    clone.__kwdefaults__ = function.__kwdefaults__
    clone.__doc__ = function.__doc__
    clone.__dict__.update(function.__dict__)
    return clone
