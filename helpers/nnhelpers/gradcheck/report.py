"""Result objects of the gradient checker: per-array reports rendered as text and as HTML.

The plain text is what a student sees in a failed test, so it says everything in words: which
parameter, how far off, which entries, the likely cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from nnhelpers.gradcheck.diagnosis.common import Cause, fmt

GOOD = 1e-7  # relative error below this: agreement to finite-difference precision
WRONG = 1e-2  # relative error above this: a real bug, not numerical noise


STATUS_TEXT = {
    "good": "good",
    "ok": "ok",
    "fail": "FAIL",
    "wrong": "WRONG",
    "error": "WRONG",
    "skipped": "skipped",
}


_HIDDEN_INPUTS: ContextVar[bool] = ContextVar("nnhelpers_hidden_inputs", default=False)
HIDDEN_NOTE = (
    "(the entries are not shown: this check ran on inputs of the hidden tests; the cause above "
    "is what to fix)"
)


@contextmanager
def hidden_inputs() -> Iterator[None]:
    """Inside, reports render their hidden form: what kind of mistake (status, causes, counts,
    a coarse relative error), never entries or values computed on the inputs. A grader turns
    it on around hidden tests, whose messages students see but whose inputs they must not."""
    token = _HIDDEN_INPUTS.set(True)
    try:
        yield
    finally:
        _HIDDEN_INPUTS.reset(token)


def on_hidden_inputs() -> bool:
    """True inside `hidden_inputs()`."""
    return _HIDDEN_INPUTS.get()


def rough(value: float) -> str:
    """A number to 1 significant digit (hidden reports: a size, not a value)."""
    return f"{value:.1g}" if value == value else "-"


class GradientCheckError(AssertionError):
    """A failed gradient check or comparison; the message is the full plain-text report."""


@dataclass(frozen=True)
class WorstEntry:
    """One entry where the two arrays differ most."""

    index: tuple[int, ...]
    analytic: float
    numerical: float

    @property
    def difference(self) -> float:
        return self.analytic - self.numerical


@dataclass
class ArrayReport:
    """Comparison of one array (a parameter's gradient, or a forward value) with the truth."""

    name: str
    status: str
    shape: tuple[int, ...]
    got_shape: tuple[int, ...] | None
    rel_error: float = float("nan")
    max_abs_diff: float = float("nan")
    max_rel_diff: float = float("nan")
    n_entries: int = 0
    n_compared: int = 0
    n_off: int = 0
    n_skipped: int = 0
    n_nonfinite: int = 0
    worst: list[WorstEntry] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    labels: tuple[str, str] = ("analytic", "numerical")

    @property
    def ok(self) -> bool:
        return self.status in ("good", "ok", "skipped")

    @property
    def likely_cause(self) -> str | None:
        """The most specific named cause, as a sentence (None when there is nothing to say)."""
        return self.causes[0].text if self.causes else None

    @property
    def cause_codes(self) -> list[str]:
        """Machine-readable cause names: sign, factor-2, factor-1/2, factor-R, factor-1/R,
        factor, transposed, missing-sum, wrong-axis, missing-term, zeros, not-zero, nan,
        nan-expected, shape, dtype, swapped."""
        return [c.code for c in self.causes]

    def summary_line(self, tol_text: str, *, hidden: bool = False) -> str:
        """One sentence: how far off and how many entries (hidden: the error to 1 digit)."""
        if self.status == "error":
            if self.got_shape is not None and self.got_shape != self.shape:
                return f"wrong shape: got {self.got_shape}, expected {self.shape}"
            return "could not be compared"
        parts = []
        if self.rel_error == self.rel_error:
            error = rough(self.rel_error) if hidden else fmt(self.rel_error)
            parts.append(f"relative error {error}{f' ({tol_text})' if tol_text else ''}")
        if self.n_compared:
            parts.append(f"{self.n_off} of {self.n_compared} entries differ")
        if self.n_skipped:
            parts.append(f"{self.n_skipped} next to a kink skipped")
        return "; ".join(parts)

    def detail_text(
        self, tol_text: str, *, always: bool = False, hidden: bool = False
    ) -> list[str]:
        """The indented paragraph under the table: summary, cause, notes, worst entries (not
        in the hidden form)."""
        if self.ok and not always and not self.notes:
            return []
        summary = self.summary_line(tol_text, hidden=hidden)
        lines = [f"-- {self.name}: {STATUS_TEXT[self.status]}, {summary}"]
        for i, cause in enumerate(self.causes):
            lines.append(f"   {'likely cause' if i == 0 else 'also'}: {cause.text}")
        for note in self.notes:
            lines.append(f"   note: {note}")
        if self.worst and not self.ok and not hidden:
            got, ref = self.labels
            lines.append(f"   worst entries ({got} vs {ref}):")
            rows = [("index", got, ref, "difference"), *worst_rows(self)]
            widths = [max(len(r[i]) for r in rows) for i in range(4)]
            for row in rows:
                cells = (c.ljust(w) for c, w in zip(row, widths, strict=True))
                lines.append(("     " + "  ".join(cells)).rstrip())
        return lines


def status_for(rel_error: float, tol: float) -> str:
    """good / ok / fail / wrong from a relative error and the pass threshold tol."""
    if not rel_error == rel_error:  # NaN
        return "wrong"
    if rel_error < min(GOOD, tol):
        return "good"
    if rel_error < tol:
        return "ok"
    if rel_error < max(WRONG, tol):
        return "fail"
    return "wrong"


class _Result:
    """Shared behaviour: ok, truthiness, raise_if_failed, text as repr."""

    title: str
    reports: dict[str, ArrayReport]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.reports.values())

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, name: str) -> ArrayReport:
        return self.reports[name]

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return self.text(hidden=on_hidden_inputs())

    def text(self, *, hidden: bool = False) -> str:  # pragma: no cover - defined below
        raise NotImplementedError

    def _repr_html_(self) -> str:
        if on_hidden_inputs():
            import html

            return f"<pre>{html.escape(self.text(hidden=True))}</pre>"
        return self._html()

    def _html(self) -> str:  # pragma: no cover - defined below
        raise NotImplementedError

    def raise_if_failed(self) -> None:
        """Raise GradientCheckError with the plain-text report unless everything passed."""
        if not self.ok:
            raise GradientCheckError(str(self))


@dataclass(repr=False)
class GradCheckResult(_Result):
    """Outcome of check_gradient / check_vjp: one ArrayReport per checked parameter."""

    name: str
    reports: dict[str, ArrayReport]
    tol: float
    eps: float
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def rel_errors(self) -> dict[str, float]:
        return {k: r.rel_error for k, r in self.reports.items()}

    @property
    def likely_causes(self) -> dict[str, str | None]:
        return {k: r.likely_cause for k, r in self.reports.items()}

    @property
    def title(self) -> str:
        what = f"Gradient check of {self.name}" if self.name else "Gradient check"
        bad = [r for r in self.reports.values() if not r.ok]
        if self.ok:
            n = len(self.reports)
            verdict = f"passed ({n} parameter{'s' if n != 1 else ''}, tol {fmt(self.tol)})"
        else:
            verdict = (
                f"FAILED ({len(bad)} of {len(self.reports)} parameters wrong, tol {fmt(self.tol)})"
            )
        return f"{what}: {verdict}"

    def _tol_text(self) -> str:
        return f"pass below {fmt(self.tol)}"

    def _rows(self, hidden: bool = False) -> list[tuple[ArrayReport, list[str]]]:
        rows = []
        for r in self.reports.values():
            rel = (rough if hidden else fmt)(r.rel_error) if r.rel_error == r.rel_error else "-"
            off = f"{r.n_off}/{r.n_compared}" if r.n_compared else "-"
            rows.append(
                (
                    r,
                    [
                        r.name,
                        str(r.shape),
                        rel,
                        STATUS_TEXT[r.status],
                        off,
                        str(r.n_skipped),
                        r.likely_cause or "",
                    ],
                )
            )
        return rows

    def text(self, *, hidden: bool = False) -> str:
        """The plain-text report; hidden: no entries, relative errors to 1 digit."""
        lines = [self.title]
        lines += [f"problem: {p}" for p in self.problems]
        header = ["parameter", "shape", "rel. error", "status", "entries off", "kinks skipped"]
        rows = [header] + [cells[:6] for _, cells in self._rows(hidden)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            lines.append(
                "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )
        for report in self.reports.values():
            lines += report.detail_text(self._tol_text(), hidden=hidden)
        lines += [f"note: {n}" for n in self.notes]
        if self.unchecked:
            lines.append(f"not checked (no gradient given): {', '.join(self.unchecked)}")
        if hidden and not self.ok:
            lines.append(HIDDEN_NOTE)
        if not self.ok:
            lines.append(
                "(analytic = the gradient given to the check; numerical = the slope measured by "
                "nudging each entry up and down by eps. relative error = |analytic - numerical| / "
                f"max(|analytic|, |numerical|) over all entries: below {fmt(GOOD)} good, below "
                f"tol passes, above {fmt(WRONG)} a real bug)"
            )
        return "\n".join(lines)

    def _html(self) -> str:
        from nnhelpers.gradcheck import html as _html  # the text layer never needs HTML

        header = ["parameter", "shape", "rel. error", "status", "entries off", "kinks skipped"]
        rows = self._rows()
        parts = [
            _html.heading(self.title, self.ok),
            _html.paragraphs("problem: ", self.problems),
            _html.table(
                header,
                [cells[:6] for _, cells in rows],
                [_html.STATUS_COLOUR[r.status] for r, _ in rows],
            ),
        ]
        parts += [_html.report_detail(r, self._tol_text()) for r in self.reports.values()]
        parts.append(_html.paragraphs("note: ", self.notes))
        if self.unchecked:
            parts.append(
                _html.paragraphs("not checked (no gradient given): ", [", ".join(self.unchecked)])
            )
        return "".join(parts)


@dataclass(repr=False)
class ComparisonResult(_Result):
    """Outcome of compare(): how a computed forward value differs from the expected one."""

    name: str
    report: ArrayReport
    rtol: float
    atol: float
    problems: list[str] = field(default_factory=list)

    @property
    def reports(self) -> dict[str, ArrayReport]:  # type: ignore[override]
        return {self.name: self.report}

    def __getattr__(self, attr: str):
        # max_abs_diff, n_off, likely_cause, cause_codes, worst ... come from the single report
        if attr in ("report", "reports", "name", "rtol", "atol", "problems") or attr.startswith(
            "_"
        ):
            raise AttributeError(attr)
        return getattr(self.report, attr)

    @property
    def title(self) -> str:
        r = self.report
        if self.ok:
            tols = f"rtol {fmt(self.rtol)}, atol {fmt(self.atol)}"
            return f"{self.name}: matches the expected values ({tols})"
        if r.status == "error":
            return f"{self.name}: WRONG, cannot be compared with the expected values"
        return (
            f"{self.name}: WRONG, {r.n_off} of {r.n_compared} entries differ "
            f"(rtol {fmt(self.rtol)}, atol {fmt(self.atol)})"
        )

    def difference_line(self, *, hidden: bool = False) -> str:
        """How far off: the largest differences, over the finite entries when some are NaN
        (hidden: only the relative one, to 1 digit)."""
        r = self.report
        if r.status == "error" or not r.n_compared:
            return ""
        if hidden:
            sizes = f"max relative difference about {rough(r.max_rel_diff)}"
        else:
            sizes = f"max abs difference {fmt(r.max_abs_diff)}, max relative difference "
            sizes += fmt(r.max_rel_diff)
        if not r.n_nonfinite:
            return sizes
        line = f"{r.n_nonfinite} entries are NaN/inf where the expected values are not"
        if r.max_abs_diff == r.max_abs_diff:
            line += f"; over the finite entries: {sizes}"
        return line

    def text(self, *, hidden: bool = False) -> str:
        """The plain-text report; hidden: no entries, the difference to 1 digit."""
        r = self.report
        lines = [self.title]
        if self.difference_line(hidden=hidden):
            lines.append("  " + self.difference_line(hidden=hidden))
        body = r.detail_text("", always=not self.ok, hidden=hidden)
        lines += body[1:]
        if hidden and not self.ok:
            lines.append("  " + HIDDEN_NOTE)
        return "\n".join(lines)

    def _html(self) -> str:
        from nnhelpers.gradcheck import html as _html  # the text layer never needs HTML

        r = self.report
        parts = [_html.heading(self.title, self.ok)]
        if self.difference_line() and not self.ok:
            parts.append(_html.paragraphs("", [self.difference_line()]))
        parts.append(_html.report_detail(r, "", always=not self.ok))
        return "".join(parts)


def worst_rows(report: ArrayReport) -> list[tuple[str, str, str, str]]:
    """(index, got, truth, difference) as text for each of the worst entries."""
    return [
        (index_label(report.name, w.index), fmt(w.analytic), fmt(w.numerical), fmt(w.difference))
        for w in report.worst
    ]


def index_label(name: str, index: tuple[int, ...]) -> str:
    """W[1, 2] for a short name, [1, 2] when the name is a long description."""
    if not index:
        return name if name.isidentifier() else "(the value)"
    inside = ", ".join(str(i) for i in index)
    return f"{name}[{inside}]" if name.isidentifier() else f"[{inside}]"
