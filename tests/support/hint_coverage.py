"""Hint coverage: do the failure messages of the graded tests name the cause of each known bug?

Every bug of the mutation corpora (tests/support/mutants) carries a cause label (sign, factor-2,
factor-R, transpose, axis, ...). Each bug runs through the graded test cells it can affect (the
master notebook executed in-process by `NotebookHarness`, hidden tests included), and every
failing cell's message is rebuilt exactly as `nngrade check --json` shows it to the student
(`nngrade.grading.redact.outcome_for`: exception name and text, friendly wording, lines that quote
hidden test code removed). A message *names the cause* when it matches the label's matcher (the
words or phrases a correct hint must contain); a message that matches another label's matcher
but not the bug's own is a *false hint* (a named cause that is wrong is worse than none).

Bugs labelled "other" have no specific cause to name: they are listed but count neither towards
coverage nor as false hints. Used by benchmarks/hint_coverage.py (`make bench-hints`) and the
floor test tests/course/test_hint_coverage.py.

`shared_measure` gives what `measure` gives, with the work shared by the processes of one test
session (pytest-xdist workers): each bug is measured once per session by whichever process
needs it first, which holds a lock on it and writes its result into the session's folder (as
tests/support/_lecture_runs.py shares the lectures).
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import importlib
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from nbharness import NotebookHarness
from nngrade.grading.prepare import read_master, test_cells
from nngrade.grading.redact import outcome_for

ROOT = Path(__file__).resolve().parents[2]

# assignment -> (master notebook, corpus module name, cells not executed at set-up)
ASSIGNMENTS: dict[str, tuple[Path, str, frozenset[str]]] = {
    "lab1": (
        ROOT / "source/lab1_perceptron_gd/lab1_perceptron_gd.ipynb",
        "mutants.labs.lab1_variants",
        frozenset(),
    ),
    "lab2": (
        ROOT / "source/lab2_softmax_backprop/lab2_softmax_backprop.ipynb",
        "mutants.labs.lab2_variants",
        frozenset(),
    ),
    "hw4": (
        ROOT / "source/hw4_mlp/hw4_mlp.ipynb",
        "mutants.hw4_variants",
        frozenset({"training", "stretch"}),
    ),
}

# What a hint naming each cause must say (case-insensitive regular expressions).
MATCHERS: dict[str, str] = {
    "sign": r"(?<!np\.)\bsign\b|opposite (sign|direction)|negated|gradient ascent"
    r"|uphill|minus sign|adds the gradient|\bsubtracts\b",
    "factor-2": r"factor (of )?2\b|\b2 times|\btwice\b|\bhalf (of|as|the)\b|\b0\.5 ?x\b",
    "factor-R": r"batch size|\bR = \d+ times|factor (2/)?R\b|\b1/R\b|\bR times\b"
    r"|averag\w* .{0,30}over the batch|\ba mean\b|mean instead of|instead of (a |the |their )?sum",
    "transpose": r"transpos",
    "axis": r"\baxis\b|\baxes\b|(rows?|columns?) (each )?sums? to|wrong (axis|dimension)"
    r"|not summed over the batch|not (of|over) each (row|column)",
    "missing-term": r"(term|factor) is missing|missing (a |the )?(term|factor)"
    r"|misses (a|the) .{0,30}(term|factor)|a (missing|extra) term|diagonal|left out"
    r"|never (added|updated|used)"
    r"|\bignor(es|ed|ing)\b|forg[eo]t|\bdrops\b",
    "wrong-input": r"wrong input|instead of (its |the )?(input|output|pre-activation)"
    r"|of the (input|output) instead|from the (output|wrong)|returns the pre-activation",
    "mask": r"\bmask|relu'|\bsigma'|derivative of the activation|where .{0,20}(> ?0|positive)"
    r"|slope of (max\(0|relu)",
    "shuffling": r"shuffl|permut|same order|with replacement|drawn twice"
    r"|labels? (no longer )?match",
    "broadcast": r"broadcasts? (to|along|as|over)\b|a broadcast|keepdims",
    "alias": r"\balias|in[- ]place|same array|modif(y|ies|ied) (its|the) (input|argument)"
    r"|across calls|between calls|shared (buffer|array)|accumulates",
    "integer-division": r"integer division|\bfloor\b|rounds? down|rounded down|//|partial batch",
    "dot-vs-elementwise": r"multipl\w* element-?wise|element-?wise (product|multipl)|matrix product"
    r"|np\.dot|\b@\b|\bdot product",
    "test-set": r"test set|test images|held[- ]out",
    "learning-rate-scale": r"learning rate|\bgamma ?/ ?R\b|\u03b3 ?/ ?R\b"
    r"|steps? .{0,30}(too large|too small)|\bsteps (are|is) (huge|tiny)",
}
# Text that mentions causes without claiming one: the checker's "no simple pattern (sign, ...)"
# list, and the suggested checks ("Check the update (gamma / R, the sign) ..." up to the end of
# the sentence): a checklist is the third part of a message, not its cause, in both directions.
NOT_A_CLAIM = re.compile(
    r"no simple pattern \([^)]*\)|(?:^|(?<=[.;:!?]))\s*check\b[^.]*", re.IGNORECASE
)
NO_SPECIFIC_CAUSE = "other"


def names(message: str) -> set[str]:
    """The cause labels whose matcher the message matches."""
    text = NOT_A_CLAIM.sub("", message)
    return {label for label, rx in MATCHERS.items() if re.search(rx, text, re.IGNORECASE)}


@dataclass
class BugResult:
    """One bug's failing messages (as the grader shows them) and what they name."""

    assignment: str
    bug: str
    label: str | None
    messages: dict[str, str] = field(default_factory=dict)  # failing grade_id -> message

    @property
    def counted(self) -> bool:
        """Bugs with a specific cause count towards coverage and false hints."""
        return self.label is not None and self.label != NO_SPECIFIC_CAUSE

    @property
    def named(self) -> bool:
        """Some failing test's message names the bug's own cause."""
        return self.label in set().union(*map(names, self.messages.values()))

    @property
    def false_hints(self) -> list[str]:
        """Failing tests whose message names another cause but not this one."""
        if not self.counted:
            return []
        return [g for g, m in self.messages.items() if names(m) and self.label not in names(m)]

    def excerpt(self, width: int = 110) -> str:
        """The most relevant message on one line: one naming the cause, else the first."""
        if not self.messages:
            return "(no test failed)"
        ordered = sorted(self.messages.items(), key=lambda kv: self.label not in names(kv[1]))
        grade_id, text = ordered[0]
        line = " ".join(text.split())
        return f"{grade_id}: {line}"[:width]


def corpus_bugs(corpus: ModuleType) -> dict[str, tuple[str, Mapping[str, Any], str | None]]:
    """name -> (test that must fail, replacements, cause label) for either corpus layout:
    `Bug(test, replace, cause)` named tuples, or (test, replace) pairs plus a CAUSES dict."""
    labels = getattr(corpus, "CAUSES", None)
    labels = labels if isinstance(labels, Mapping) else {}
    out = {}
    for name, bug in corpus.BUGS.items():
        label = getattr(bug, "cause", None) or labels.get(name)
        out[name] = (bug[0], bug[1], label)
    return out


class Grader:
    """Runs variants through a master's graded cells and words failures as the grader does."""

    def __init__(self, master: Path, skip: Iterable[str] = ()) -> None:
        self.harness = NotebookHarness(master, skip=skip)
        self.cells = {t.grade_id: t for t in test_cells(read_master(master))}

    def failing_messages(
        self, variant: Mapping[str, Any], must_fail: str | None = None
    ) -> dict[str, str]:
        """grade_id -> student-facing message of every affected test cell that fails."""
        h = self.harness
        wanted = h.cells_affected_by(variant)
        if must_fail and must_fail not in wanted:
            wanted.append(must_fail)
        ns = h.namespace_for(variant)
        failing = {}
        with h._in_notebook_dir(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for grade_id in wanted:
                error = self._run(grade_id, ns)
                if error is not None:
                    failing[grade_id] = self._as_graded(grade_id, error)
        return failing

    def _run(self, grade_id: str, ns: dict[str, Any]) -> BaseException | None:
        cell_ns = dict(ns)
        code = compile(self.harness.test_sources[grade_id], f"<test {grade_id}>", "exec")
        try:
            exec(code, cell_ns)  # noqa: S102 - the course's own master and corpus
        except Exception as error:  # noqa: BLE001 - every error in a test cell is a failure
            return error
        return None

    def _as_graded(self, grade_id: str, error: BaseException) -> str:
        """The message `nngrade check --json` gives for this exception in this cell."""
        cell = {"outputs": [{"output_type": "error", "ename": type(error).__name__,
                             "evalue": str(error)}]}  # fmt: skip
        return outcome_for(self.cells[grade_id], cell, timed_out=False, hidden=True).message


def measure(assignment: str, only: Iterable[str] | None = None) -> list[BugResult]:
    """Run every bug of one assignment's corpus (or `only` these) and collect its messages."""
    master, module, skip = ASSIGNMENTS[assignment]
    corpus = importlib.import_module(module)
    grader = Grader(master, skip)
    bugs = corpus_bugs(corpus)
    results = []
    for name in sorted(bugs) if only is None else list(only):
        must_fail, variant, label = bugs[name]
        messages = grader.failing_messages(variant, must_fail)
        results.append(BugResult(assignment, name, label, messages))
    return results


def bug_names(assignment: str) -> list[str]:
    """The bugs of one assignment's corpus, in the order `measure` runs them."""
    return sorted(corpus_bugs(importlib.import_module(ASSIGNMENTS[assignment][1])))


@functools.cache
def _grader(assignment: str) -> Grader:
    master, _, skip = ASSIGNMENTS[assignment]
    return Grader(master, skip)


@functools.cache
def _measure_here(assignment: str, bug: str) -> BugResult:
    """One bug measured in this process (one Grader per assignment and process, as `measure`)."""
    must_fail, variant, label = corpus_bugs(importlib.import_module(ASSIGNMENTS[assignment][1]))[
        bug
    ]
    return BugResult(
        assignment, bug, label, _grader(assignment).failing_messages(variant, must_fail)
    )


def bug_result(
    assignment: str, bug: str, shared: Path | None = None, *, wait: bool = True
) -> BugResult | None:
    """One bug's result, measured once per process, and once per session when the session's
    processes pass the same `shared` folder: the first to need it measures it while holding a
    lock on it, the others read what it wrote. With `wait=False`, None while another process is
    measuring it."""
    if shared is None:
        return _measure_here(assignment, bug)
    shared.mkdir(parents=True, exist_ok=True)
    result = shared / f"{assignment}-{bug}.json"
    with open(shared / f"{assignment}-{bug}.lock", "w") as lock:
        try:  # released when the file closes, or when the process dies
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        if result.is_file():
            return BugResult(**json.loads(result.read_text(encoding="utf-8")))
        found = _measure_here(assignment, bug)
        partial = result.with_suffix(".partial")
        partial.write_text(json.dumps(dataclasses.asdict(found)), encoding="utf-8")
        partial.replace(result)  # atomic: a reader sees the whole result or none
        return found


def shared_measure(assignment: str, shared: Path | None = None) -> list[BugResult]:
    """`measure(assignment)`, sharing the work with the session's other processes: the bugs
    nobody is measuring first, then the ones another process was measuring, once it is done."""
    names = bug_names(assignment)
    results = {name: bug_result(assignment, name, shared, wait=False) for name in names}
    for name in names:
        if results[name] is None:
            results[name] = bug_result(assignment, name, shared)
    return [results[name] for name in names]


def coverage(results: list[BugResult]) -> tuple[int, int, int]:
    """(bugs whose cause is named, bugs with a specific cause, false hints) of one assignment."""
    counted = [r for r in results if r.counted]
    return (
        sum(r.named for r in counted),
        len(counted),
        sum(len(r.false_hints) for r in counted),
    )


def table(results: list[BugResult]) -> str:
    """Plain-text table: bug, label, named?, false?, message excerpt; then the coverage line."""
    rows = [f"{'bug':44} {'label':19} named false  message"]
    for r in results:
        named = "yes" if r.named else ("-" if not r.counted else "NO")
        false = ",".join(r.false_hints) or "-"
        rows.append(f"{r.bug:44} {r.label or '?':19} {named:5} {false[:6]:6} {r.excerpt()}")
    hit, total, false = coverage(results)
    pct = 100.0 * hit / total if total else 100.0
    rows.append(f"coverage {hit}/{total} = {pct:.0f} %, false hints {false}")
    return "\n".join(rows)
