"""Grading results shared by every executor: per-test outcomes, the report, the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    import nbformat

GRADED, COULD_NOT_GRADE, GRADER_FAULT = "graded", "could-not-grade", "grader-fault"

DEFAULT_FIX = (
    "repair the grading environment (`make venv`, free disk space, check the sandbox), then run "
    "the same command again: only the affected submissions are regraded"
)


class GraderFault(RuntimeError):
    """The grader failed, not the submission: the sandbox or kernel did not start, a package of
    the grading environment is missing, the disk is full, ...

    Such an outcome is never a student's grade: it is not recorded in the gradebook, not cached
    (the next run retries it), and makes the command exit non-zero with `diagnosis` and `fix`.
    Raise it from any executor or sandbox code that detects a fault of its own environment.
    """

    def __init__(self, diagnosis: str, fix: str = DEFAULT_FIX) -> None:
        super().__init__(diagnosis)
        self.diagnosis = " ".join(str(diagnosis).split())  # one line
        self.fix = " ".join(str(fix).split())

    def __str__(self) -> str:
        return f"{self.diagnosis}. Fix: {self.fix}"


def grader_fault_report(assignment: str, student: str | None, fault: GraderFault) -> GradeReport:
    """The report of a grading that failed because of the grader (no tests, no notebook)."""
    report = GradeReport(assignment, student, GRADER_FAULT, str(fault))
    report.fix = fault.fix
    return report


# The note of every grading that ran the visible tests only (no master copy, or --release-only);
# `nngrade check` looks for this exact note, so it is worded here and nowhere else.
HIDDEN_NOT_RUN = (
    "hidden tests were not run (graded against the release copy, visible tests only): "
    "this score is not final"
)


@dataclass
class TestOutcome:
    """The result of one graded cell; `message` is safe to show a student."""

    __test__ = False  # not a pytest test class

    grade_id: str
    score: float
    max_score: float
    status: str  # "passed" | "failed" | "error" | "timeout" | "not-run"
    message: str  # never hidden-test source or traceback lines of hidden tests
    hidden: bool  # the cell had a hidden-tests section in the master copy
    # its hidden calls ran in a throw-away copy of the kernel (nothing they did reached a
    # later cell), so the outputs after it need not be withheld (redact.withhold_after_hidden)
    isolated: bool = False

    def to_json(self) -> dict[str, Any]:
        """The per-test entry of `nngrade check --json`."""
        return {
            "grade_id": self.grade_id,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "message": self.message,
        }


@dataclass
class GradeReport:
    """Everything one grading of one submission produced."""

    assignment: str
    student: str | None
    status: str  # "graded" | "could-not-grade" (the submission's fault) | "grader-fault"
    reason: str  # "" when graded; otherwise names the problem
    tests: list[TestOutcome] = field(default_factory=list)
    notebook: nbformat.NotebookNode | None = None  # graded copy, hidden tests redacted
    notes: list[str] = field(default_factory=list)  # for the student: repairs made, remarks
    log: list[str] = field(default_factory=list)  # instructor only: sandbox mode, host paths
    fix: str = ""  # grader faults: what the instructor should do
    seconds: float = 0.0  # wall time the executor took (set by the worker pool)

    @property
    def score(self) -> float:
        """Total points earned."""
        return float(sum(t.score for t in self.tests))

    @property
    def max_score(self) -> float:
        """Total points available."""
        return float(sum(t.max_score for t in self.tests))

    def to_json(self) -> dict[str, Any]:
        """The `nngrade check --json` shape (plus `reason`, `student` and `notes`)."""
        return {
            "assignment": self.assignment,
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "reason": self.reason,
            "notes": list(self.notes),
            "log": list(self.log),
            "fix": self.fix,
            "tests": [t.to_json() for t in self.tests],
        }


@dataclass
class Limits:
    """Resource limits of one grading run (seconds, megabytes): the one place they are set.

    The course's nbgrader_config.py may override those in CONFIGURABLE (`c.NNGrade.cell_timeout`,
    ...), and so may the command-line flags; every default lives here.
    """

    CONFIGURABLE: ClassVar[tuple[str, ...]] = (
        "cell_timeout",
        "total_timeout",
        "memory_mb",
        "allow_degraded",
        "max_submission_mb",
        "judge_memory_mb",
    )

    cell_timeout: float = 30
    total_timeout: float = 900
    memory_mb: int = 2048
    max_processes: int = 64
    max_file_mb: int = 200
    max_submission_mb: int = 50  # a submitted notebook larger than this is not graded
    # How much the grader's own memory may grow while one test cell judges student values
    # (nngrade.sandbox.judge): a broadcast of a stray dimension fails the test, not the grader.
    judge_memory_mb: int = 640
    network: bool = False
    allow_degraded: bool = False  # grade where the sandbox cannot isolate (--allow-degraded)

    @classmethod
    def from_config(cls, section) -> Limits:
        """The defaults, overridden by what a config section (`c.NNGrade`) sets."""
        limits = cls()
        for name in cls.CONFIGURABLE:
            if section and name in section:
                kind = type(getattr(limits, name))
                setattr(limits, name, kind(section[name]))
        return limits
