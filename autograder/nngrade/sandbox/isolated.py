"""The isolated executor: student cells run in a sandbox, verdicts are decided in the grader.

Student (non-test) cells execute in a sandboxed kernel (`nngrade.sandbox.launcher`). Every
graded test cell runs here, in the grader's process, with trusted numpy and nnhelpers; names it
does not define resolve to proxies of the student's functions in the kernel
(`nngrade.sandbox.remote`). So monkeypatching, IPython hooks, fake output, forged files or a
killed kernel can change only what the student's functions return, never how it is judged or
what it is worth.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import logging
import numbers
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from nngrade.grading import declassify, faults
from nngrade.grading import markers as mk
from nngrade.grading.caps import MAX_EVALUE, cut_text
from nngrade.grading.executors import Executor, Job
from nngrade.grading.markers import Markers
from nngrade.grading.prepare import Prepared, is_test_cell, nbgrader_meta
from nngrade.grading.redact import WITHHELD
from nngrade.grading.results import (
    GRADED,
    GradeReport,
    GraderFault,
    Limits,
    TestOutcome,
)
from nngrade.sandbox import judge
from nngrade.sandbox.launcher import (
    WALL_FACTOR,
    CallTimeout,
    CopyDied,
    KernelDied,
    Sandbox,
    SandboxError,
)
from nngrade.sandbox.remote import (
    Channel,
    ReplyRefused,
    StudentCodeError,
    TestNamespace,
    TestTimeout,
    student_frames,
)

log = logging.getLogger("nngrade.sandbox.isolated")

TRUSTED_IMPORTS = {
    "numpy", "nnhelpers", "math", "cmath", "itertools", "functools", "collections",
    "statistics", "dataclasses", "typing", "operator", "string", "re", "textwrap",
}  # fmt: skip
SEED_CAP = 50 * 2**20
OUTPUT_CAP = 20_000  # characters of one output (a stream, a value, a traceback)
ENAME_CAP, LINE_CAP = 100, 500  # an error's name, and each line of its traceback
NOTEBOOK_OUTPUT_CAP = 2 * 2**20  # characters of all outputs of one graded copy


@dataclass
class _TestResult:
    status: str
    message: str
    printed: str
    partial: float | None = None


def _grade(job: Job, prepared: Prepared) -> GradeReport:
    """Grade one submission with student code sandboxed and test cells run by the grader.

    Raises `GraderFault` when the sandbox cannot start or the master's set-up cannot import a
    package (faults of the grading environment, never the student's grade). What the sandbox
    is (mode, warnings, host paths) goes to the instructor's log, never to student notes.
    """
    submission, master, limits = job.submission, job.master, job.limits
    master_nb = nbformat.read(str(master), as_version=4)
    notes = list(prepared.notes)
    instructor: list[str] = []
    try:
        sandbox = Sandbox(limits, files=_seed_files(submission, master, job.markers))
        sandbox.start()
    except GraderFault:
        raise
    except SandboxError as err:  # the sandbox did not start: the grader's fault
        raise GraderFault(
            f"the grading sandbox could not start ({type(err).__name__}: {err})",
            "run `nngrade check` on the reference notebook to see the sandbox's error; check "
            "that the grader's venv, data cache and course folder are readable inside the "
            "sandbox (or set NNGRADE_SANDBOX=plain to run without namespaces), then run the "
            "same command again",
        ) from err
    try:
        instructor.append(f"sandbox: {sandbox.describe()}")
        instructor.extend(f"sandbox warning: {w}" for w in sandbox.warnings)
        if sandbox.isolation.mode == "namespaces" and sandbox.exposes(master):
            warning = (
                f"the master copy {master} lies inside a folder shown to student code "
                "(system or Python folders): move the course out of it"
            )
            log.warning("nngrade: %s", warning)
            instructor.append(f"sandbox warning: {warning}")
        run = _Run(sandbox, limits, job.hidden, _trusted_base(master_nb), job.markers)
        tests = run.grade(prepared.notebook)
        notes.extend(run.notes)
    finally:
        leftover = sandbox.close()
    if leftover:
        instructor.append(f"sandbox: processes {leftover} could not be killed")
    fault = faults.master_setup_failed(prepared.notebook)
    if fault is not None:
        raise fault
    return GradeReport(
        job.assignment,
        job.student,
        GRADED,
        "",
        tests=tests,
        notebook=prepared.notebook,
        notes=notes,
        log=instructor,
    )


grade_notebook = Executor(_grade)  # the isolated executor (see executors.Executor)


def _seed_files(submission: Path, master: Path, markers: Markers = mk.DEFAULT) -> dict[str, bytes]:
    """What the student's code may see: their notebook and the files beside the master that
    carry no solution or hidden test (no marker, no secret line: `nngrade release` refuses
    such files too), regular files only, never through a link."""
    files = {submission.name: submission.read_bytes()[:SEED_CAP]}
    secrets = mk.secret_lines(mk.notebook_sources([master]), (mk.SOLUTION, mk.HIDDEN), markers)
    total = 0
    for path in sorted(master.parent.iterdir()):
        if path.is_symlink() or not path.is_file() or path.suffix == ".ipynb":
            continue
        if path.name.startswith("."):
            continue
        total += path.stat().st_size
        if total > SEED_CAP:
            break
        data = path.read_bytes()
        if mk.carried_secrets(data.decode("utf-8", errors="replace"), secrets, markers):
            log.warning(
                "nngrade: %s carries solutions or hidden tests: not shown to student code", path
            )
            continue
        files[path.name] = data
    return files


def _trusted_base(master_nb: nbformat.NotebookNode) -> dict:
    """Test-cell globals: numpy plus the master's own imports and helper definitions.

    Only the master copy is read (never the student's), and only from cells that are not
    answers: allowlisted imports and top-level `def`/`class` statements, so a helper such
    as `sigmoid` given in a locked cell is the instructor's, whatever the kernel holds.
    """
    namespace: dict = {"__builtins__": builtins, "__name__": "__nngrade_tests__", "np": np}
    master_text = "\n".join(str(cell.source) for cell in master_nb.cells)
    namespace[declassify.HIDDEN_NAME] = declassify.HiddenBlocks(master_text)
    for cell in master_nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or meta.get("solution") or is_test_cell(cell):
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        keep = [node for node in tree.body if _trusted_statement(node)]
        if not keep:
            continue
        try:
            exec(compile(ast.Module(keep, []), "<master set-up>", "exec"), namespace)
        except Exception as err:  # a helper the grader cannot define: tests resolve it remotely
            log.warning("nngrade: could not define the master's set-up in the grader: %s", err)
    return namespace


def _trusted_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import):
        return all(alias.name.split(".")[0] in TRUSTED_IMPORTS for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").split(".")[0] in TRUSTED_IMPORTS
    return isinstance(node, ast.FunctionDef | ast.ClassDef)


def _without_magics(source: str) -> str:
    lines = source.split("\n")
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


class _Run:
    """One pass over the merged notebook: student cells to the kernel, tests in the grader."""

    def __init__(
        self, sandbox: Sandbox, limits: Limits, hidden: bool, base: dict, markers: Markers
    ) -> None:
        self.sandbox, self.limits, self.hidden = sandbox, limits, hidden
        self.markers = markers
        self.channel = Channel(sandbox)
        self.namespace = TestNamespace(self.channel, base)
        self.deadline = time.monotonic() + limits.total_timeout
        self.stopped = ""  # why later cells are not run (kernel dead, time used up)
        self.count = 0  # execution count shown in the graded copy (student and test cells)
        self.kernel_count = 0  # the sandboxed shell's own count (student cells only)
        self.notes: list[str] = []
        self.has_hidden = False
        # True once a hidden test has called student code in the kernel itself: from then on
        # nothing student code produces (cell outputs, prints, error texts) is kept, since it
        # could carry the hidden inputs. Hidden calls normally run in a throw-away copy of the
        # kernel instead, and this stays False (docs/security.md, "after the first hidden
        # test"); `refused` says why the copy could not be used
        self.after_hidden = False
        self.refused = ""
        self.withheld = 0
        self.output_left = NOTEBOOK_OUTPUT_CAP
        self.blocks = base.get(declassify.HIDDEN_NAME) or declassify.HiddenBlocks("")

    def grade(self, nb: nbformat.NotebookNode) -> list[TestOutcome]:
        outcomes = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if is_test_cell(cell):
                outcomes.append(self._test_cell(cell))
            else:
                self._student_cell(cell, index)
                if self.after_hidden and cell.get("outputs"):
                    cell.outputs = [_stream(WITHHELD + "\n")]
                    self.withheld += 1
        if self.withheld:
            self.notes.append(
                f"the outputs of {self.withheld} cell(s) that ran after the first hidden test "
                "are not shown: they could reveal the hidden tests' inputs"
            )
        return outcomes

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def _check_stop(self) -> None:
        if not self.stopped and self._left() <= 0:
            self.stopped = (
                f"grading stopped: the notebook used up its total time limit of "
                f"{self.limits.total_timeout:.0f} s"
            )
        if not self.stopped and not self.sandbox.alive:
            reason = self.sandbox.dead_reason or "the kernel died"
            self.stopped = f"{reason}; later cells were not run"

    # -- student cells ---------------------------------------------------------------------
    def _student_cell(self, cell, index: int) -> None:
        self._check_stop()
        if self.stopped or not cell.source.strip():
            return
        self.count += 1
        cell.execution_count = self.count
        timeout = min(self.limits.cell_timeout, self._left())
        self.kernel_count += 1  # the shell counts every cell it is given, failed ones too
        try:
            request = {"op": "run_cell", "code": cell.source}
            reply, _ = self.sandbox.request(request, timeout=timeout)
        except CallTimeout as err:
            cell.outputs = [_error_output("TimeoutError", f"this cell was {err}")]
            self.notes.append(
                f"cell {index + 1} was {err} (an endless loop, or code far slower than "
                "needed); grading went on"
            )
            return
        except KernelDied as err:
            cell.outputs = [_error_output("KernelDied", f"{err} while running this cell")]
            return
        outputs = _with_result(str(reply.get("stdout") or ""), self.kernel_count, self.count)
        error = reply.get("error")
        if error:
            if type(error) is not dict:
                error = {"ename": "Error", "evalue": "(a malformed error report)"}
            text = student_frames(str(error.get("traceback", ""))[-OUTPUT_CAP:])
            outputs.append(
                _error_output(
                    str(error.get("ename", "Error"))[:200],
                    str(error.get("evalue", ""))[:MAX_EVALUE],
                    text,
                )
            )
        cell.outputs = self._within_budget(outputs)

    def _within_budget(self, outputs: list) -> list:
        """Outputs as long as the graded copy's output budget lasts, then a one-line note."""
        size = sum(_output_size(output) for output in outputs)
        if self.output_left - size >= 0:
            self.output_left -= size
            return outputs
        self.output_left = 0
        note = (
            f"(output not kept: this notebook's outputs passed the grader's limit of "
            f"{NOTEBOOK_OUTPUT_CAP // 2**20} MB)\n"
        )
        return [_stream(note)]

    # -- test cells ------------------------------------------------------------------------
    def _test_cell(self, cell) -> TestOutcome:
        meta = nbgrader_meta(cell)
        grade_id, points = meta["grade_id"], float(meta.get("points") or 0)
        master_source = cell.source
        has_hidden = mk.has_hidden(master_source, self.markers)
        source = master_source if self.hidden else mk.strip_hidden(master_source, self.markers)
        self._check_stop()
        isolated = False
        if self.stopped:
            result = _TestResult("not-run", self.stopped, "")
        else:
            self.count += 1
            cell.execution_count = self.count
            self.blocks.reset()
            isolated = has_hidden and self.hidden and self._hidden_begin()
            try:
                result = self._evaluate(source, grade_id, has_hidden)
            finally:
                if isolated:
                    self._hidden_end()
            if has_hidden and self.hidden:  # what a hidden block says is declassified
                result.message = self.blocks.message(result.message)
                result.printed = self.blocks.printed(result.printed)
            self.after_hidden = self.after_hidden or (has_hidden and self.hidden and not isolated)
            if self.namespace.values_read:
                names = ", ".join(sorted(self.namespace.values_read))
                self.notes.append(
                    f"{grade_id} read the kernel's value of {names}: student code can change "
                    "it, so the test should build its own inputs (instructor: see the "
                    "test-cell rule)"
                )
        score = 0.0
        if result.status == "passed":
            score = points
            if result.partial is not None and 0 <= result.partial <= points:
                score = float(result.partial)
        if has_hidden:
            cell.source = mk.visible_source(master_source, self.markers)
        cell.outputs = self._within_budget(_test_outputs(result))
        status, message = result.status, result.message
        return TestOutcome(grade_id, score, points, status, message, has_hidden, bool(isolated))

    def _hidden_begin(self) -> bool:
        """Run this test's calls in a throw-away copy of the kernel? Once refused (or after
        hidden calls ran in the kernel), never again: outputs are withheld from then on."""
        if self.refused or self.after_hidden:
            return False
        try:
            isolated, why = self.sandbox.hidden_begin(min(30.0, max(self._left(), 1.0)))
        except (CallTimeout, KernelDied) as err:
            isolated, why = False, f"the kernel did not start the copy ({err})"
        if not isolated:
            self.refused = why
            self.notes.append(
                "hidden tests could not run in a throw-away copy of your kernel "
                f"({why}), so what your code shows after the first hidden test is not shown"
            )
        return isolated

    def _hidden_end(self) -> None:
        try:
            self.sandbox.hidden_end(min(30.0, max(self._left(), 1.0)))
        except (CallTimeout, KernelDied):
            pass  # the kernel was killed: later cells are not run (`_check_stop`)

    def _evaluate(self, source: str, grade_id: str, has_hidden: bool) -> _TestResult:
        """Run one test cell here; only its own exceptions decide the verdict."""
        self.namespace.forget_student_names()
        self.channel.printed.clear()
        self.has_hidden = has_hidden or self.after_hidden
        budget = min(self.limits.cell_timeout, self._left())
        self.channel.deadline = self.channel.now() + budget
        printed = io.StringIO()
        try:
            body, last = _split_last_expression(source, grade_id, self.markers)
            with (
                contextlib.redirect_stdout(printed),
                contextlib.redirect_stderr(printed),
                judge.bounded(self.limits.judge_memory_mb, WALL_FACTOR * budget + 5),
            ):
                exec(body, self.namespace)
                value = eval(last, self.namespace) if last is not None else None
        except judge.JudgeTimeout:
            if self.channel.busy:  # cut off mid-reply: the channel is out of step
                self.channel.busy = False
                self.sandbox.kill("the test's deadline passed while the kernel was replying")
            message = (
                "the test did not finish in time: its own work on your functions' results "
                f"ran past the deadline (limit {self.limits.cell_timeout:.0f} s per test)"
            )
            return _TestResult("timeout", message, self._printed(printed))
        except judge.JudgeMemoryError as err:
            message = (
                f"{err}: check the shapes and sizes of what your functions return against "
                "what the assignment asks for (a stray dimension broadcasts into a huge array)"
            )
            return _TestResult("error", message, self._printed(printed))
        except ReplyRefused as err:
            return _TestResult("error", str(err), self._printed(printed))
        except StudentCodeError as err:
            message = str(err)
            if _in_hidden_part(
                err, source, self.markers
            ):  # the message could spell out hidden inputs
                message = message.split(" raised ", 1)[0] + (
                    f" raised {_builtin_name(err)} on an input of the hidden tests"
                )
            elif self.after_hidden:  # the text could spell out inputs of earlier hidden tests
                message = message.split(" raised ", 1)[0] + (
                    f" raised {_builtin_name(err)} (its text is not shown: hidden tests had "
                    "called your functions before this test)"
                )
            return _TestResult("error", message, self._printed(printed))
        except AssertionError as err:
            message = str(err).strip() or _silent_assert(err, source, has_hidden, self.markers)
            return _TestResult("failed", message, self._printed(printed))
        except TestTimeout as err:
            message = (
                f"your code did not finish in time: the test's calls were {err}"
                f" (limit {self.limits.cell_timeout:.0f} s per test)"
            )
            return _TestResult("timeout", message, self._printed(printed))
        except KernelDied as err:
            return _TestResult("error", f"{err} during this test", self._printed(printed))
        except CopyDied as err:
            message = f"{err} (a crash, or the memory or time limit; your kernel itself lives on)"
            return _TestResult("error", message, self._printed(printed))
        except NameError as err:
            name = getattr(err, "name", None) or str(err)
            message = (
                f"the test needs {name!r}, which your notebook does not define: check the name "
                "of your function and that its cell runs without errors"
            )
            return _TestResult("error", message, self._printed(printed))
        except Exception as err:
            message = f"{type(err).__name__}: {err}" + _where(err, source, has_hidden, self.markers)
            return _TestResult("error", message, self._printed(printed))
        partial = value if _is_number(value) else None
        return _TestResult("passed", "", self._printed(printed), partial)

    def _printed(self, buffer: io.StringIO) -> str:
        """What the test printed, plus what student functions printed (not in hidden tests:
        a function could print the hidden inputs it was given)."""
        student = "".join(self.channel.printed)
        if self.has_hidden and student:
            student = "(what your functions printed during this test is not shown)\n"
        return (student + buffer.getvalue())[:OUTPUT_CAP]


def _split_last_expression(source: str, grade_id: str, markers: Markers = mk.DEFAULT):
    """Compile a test cell; a final bare expression is kept apart (nbgrader's partial credit).
    Hidden blocks are marked (`declassify.mark_hidden`): what they say is declassified."""
    tree = ast.parse(source, filename=f"<test {grade_id}>")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        expr = ast.Expression(tree.body.pop().value)
        last = compile(expr, f"<test {grade_id}>", "eval")
    tree = declassify.mark_hidden(tree, mk.hidden_line_numbers(source, markers))
    return compile(tree, f"<test {grade_id}>", "exec"), last


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _line_of(err: BaseException) -> int | None:
    tb, line = err.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<test "):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _in_hidden_part(err: BaseException, source: str, markers: Markers) -> bool:
    """Did the error surface on a line of a hidden-tests block?"""
    return _line_of(err) in mk.hidden_line_numbers(source, markers)


def _builtin_name(err: BaseException) -> str:
    for klass in type(err).__mro__:
        if klass.__module__ == "builtins" and klass not in (Exception, BaseException, object):
            return klass.__name__
    return "an exception"


def _where(err: BaseException, source: str, has_hidden: bool, markers: Markers) -> str:
    """' (test line N: code)' for visible test lines; nothing that would reveal hidden tests."""
    line = _line_of(err)
    if line is None:
        return ""
    lines = source.splitlines()
    if has_hidden and line >= min(mk.hidden_line_numbers(source, markers), default=line + 1):
        return ""
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return f" (test line {line}: {text})" if text else ""


def _silent_assert(err: AssertionError, source: str, has_hidden: bool, markers: Markers) -> str:
    where = _where(err, source, has_hidden, markers)
    if where:
        return "a check of this test failed" + where
    return "a hidden check of this test failed (it has no message)"


def _with_result(stdout: str, kernel_count: int, count: int) -> list:
    """Outputs of a student cell: what it printed, then its value as an execute result.

    The sandboxed shell prints a cell's value after "Out[k]: " with its own count k, which
    counts only student cells; shown as such, "Out[7]" would sit beside "In [10]". The value
    becomes an execute_result numbered like its cell, as in Jupyter.
    """
    prompt = f"Out[{kernel_count}]: "
    at = stdout.rfind(prompt)
    if at < 0 or (at > 0 and stdout[at - 1] != "\n"):
        return [_stream(stdout)] if stdout else []
    outputs = [_stream(stdout[:at])] if stdout[:at] else []
    value = stdout[at + len(prompt) :].rstrip("\n")
    outputs.append(
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": value[:OUTPUT_CAP]}, execution_count=count
        )
    )
    return outputs


def _stream(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text[:OUTPUT_CAP])


def _error_output(ename: str, evalue: str, traceback: str = ""):
    """An error output, every part capped (a student's exception can carry megabytes)."""
    ename, evalue = _clip(ename, ENAME_CAP), _clip(evalue, MAX_EVALUE)
    text = traceback[-OUTPUT_CAP:] if traceback else f"{ename}: {evalue}"
    lines = [_clip(line, LINE_CAP) for line in text.splitlines()]
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=lines)


def _clip(text: str, cap: int) -> str:
    return cut_text(text, cap).rstrip("\n")


def _output_size(output) -> int:
    """Characters an output adds to the graded copy."""
    if output.get("output_type") == "error":
        return len(output.get("evalue", "")) + sum(map(len, output.get("traceback", [])))
    if output.get("output_type") == "stream":
        return len(output.get("text", ""))
    return sum(len(str(v)) for v in output.get("data", {}).values())


def _test_outputs(result: _TestResult) -> list:
    outputs = [_stream(result.printed)] if result.printed else []
    if result.status != "passed":
        outputs.append(_error_output(result.status, result.message))
    return outputs
